"""The decorators users write: `@pylon.PipelineComponent`, `SourceComponent`, `SinkComponent`.

Decorating does nothing but wrap the function: config is resolved and AWS clients are
created on the first `runOnce`/`runForever`/`lambda_handler` call (and then reused, so
warm Lambda invocations pay nothing), never at import time.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, ClassVar

import boto3

from pylon.config import ComponentConfig, ComponentKind, load_config
from pylon.errors import PylonError
from pylon.fifo import GroupOf
from pylon.lambda_batch import (
    handle_direct_event,
    handle_sqs_event,
    is_sqs_event,
    remaining_time,
)
from pylon.log_format import configure_logging
from pylon.logs import Liveness, heartbeat
from pylon.processing import Task
from pylon.runtime import Runtime, build_runtime
from pylon.shutdown import StopSignal
from pylon.source_loop import SourceLoop
from pylon.worker import BatchOutcome, QueueWorker

logger = logging.getLogger(__name__)

# EX_CONFIG from sysexits.h: the container cannot start with this configuration.
CONFIG_EXIT_CODE = 78


class Component:
    """What every decorated component is: the harness loads and runs any of them alike.

    Used bare (`@pylon.PipelineComponent`) or with options
    (`@pylon.PipelineComponent(message_group=lambda m: m.attributes["station"])`, which
    chooses each output's message group when the output topic is FIFO: see `pylon.fifo`).
    """

    kind: ClassVar[ComponentKind]

    def __init__(self, task: Task | None = None, *, message_group: GroupOf | None = None) -> None:
        self.message_group = message_group
        self._task: Task | None = None
        self.task_name = type(self).__name__
        self._runtime: Runtime | None = None
        self._queue_worker: QueueWorker | None = None
        self.stop_signal = StopSignal()
        if task is not None:
            self._wrap(task)

    def _wrap(self, task: Task) -> None:
        if not callable(task):
            raise TypeError(
                f"@{type(self).__name__} decorates a function; got {type(task).__name__}"
            )
        functools.update_wrapper(self, task)
        self._task = task
        self.task_name = getattr(task, "__name__", type(task).__name__)

    @property
    def task(self) -> Task:
        if self._task is None:
            raise TypeError(f"{type(self).__name__}(...) was created but never given a function")
        return self._task

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Calling the decorated function still calls the function (handy in unit tests).

        With options, the first call is the decoration itself: it takes the function.
        """
        if self._task is None and len(args) == 1 and not kwargs:
            self._wrap(args[0])
            return self
        return self.task(*args, **kwargs)

    def configure(
        self, config: ComponentConfig | None = None, session: boto3.session.Session | None = None
    ) -> Runtime:
        """Resolve config (from the environment unless given) and build the runtime.

        AWS clients come from `session` when given (another profile, region or
        credentials than the environment's), else from a new default session.
        """
        config = config or load_config(self.kind, self.task_name)
        self._runtime = build_runtime(
            self.kind, self.task, self.task_name, config, session, self.message_group
        )
        if self._queue_worker is not None:
            self._queue_worker.close()
            self._queue_worker = None
        return self._runtime

    @property
    def runtime(self) -> Runtime:
        return self._runtime or self.configure()

    def runOnce(self) -> object:
        raise NotImplementedError

    def runForever(self) -> None:
        raise NotImplementedError

    def lambda_handler(self, event: Any, context: Any) -> dict[str, Any]:
        raise NotImplementedError

    def stop(self) -> None:
        """Ask a running `runForever` to stop after the message in hand."""
        self.stop_signal.request()

    def _new_stop_signal(self) -> StopSignal:
        self.stop_signal = StopSignal()
        return self.stop_signal

    def _runtime_or_exit(self) -> Runtime:
        """For `runForever`, a container's main loop: a configuration error (a missing
        key, an unreadable SSM parameter) ends the process with one clear log line and
        exit code 78, instead of a traceback."""
        try:
            return self.runtime
        except PylonError as error:
            configure_logging()  # the runtime's own logging setup never ran
            logger.error("%s cannot start: %s", self.task_name, error)
            raise SystemExit(CONFIG_EXIT_CODE) from None


class QueueComponent(Component):
    """Pipeline and sink components: consume an SQS queue."""

    def _worker(self, runtime: Runtime) -> QueueWorker:
        """One worker (and so one lease keeper) per runtime, reused across runOnce calls."""
        if self._queue_worker is None:
            assert runtime.queue is not None
            self._queue_worker = QueueWorker(runtime.path, runtime.queue)
        return self._queue_worker

    def runOnce(self) -> BatchOutcome:
        """Receive and process one batch (up to 10 messages, long polling)."""
        runtime = self.runtime
        heartbeat("run_once")
        return self._worker(runtime).run_once()

    def runForever(self) -> None:
        """Consume until SIGTERM/SIGINT (or `stop()`), finishing the message in hand."""
        runtime = self._runtime_or_exit()
        heartbeat("run_forever")
        worker = self._worker(runtime)
        with self._new_stop_signal() as stop:
            worker.run_forever(stop, Liveness.for_config(runtime.config))

    def lambda_handler(self, event: Any, context: Any) -> dict[str, Any]:
        """Lambda entry point: an SQS batch (partial batch response), or a direct event."""
        path = self.runtime.path
        heartbeat("lambda_handler")
        if is_sqs_event(event):
            return dict(handle_sqs_event(path, event, remaining_time(context)))
        return handle_direct_event(path, event, str(getattr(context, "aws_request_id", "direct")))


class PipelineComponent(QueueComponent):
    """Input queue -> task -> output topic, with lineage."""

    kind = ComponentKind.PIPELINE


class SinkComponent(QueueComponent):
    """Input queue -> task; no output topic, no ingestion step."""

    kind = ComponentKind.SINK


class SourceComponent(Component):
    """Task -> output topic; the task receives `message=None`."""

    kind = ComponentKind.SOURCE

    def runOnce(self) -> str | None:
        """Run once; return the ingestion id of the run."""
        path = self.runtime.path
        heartbeat("run_once")
        return SourceLoop(path).run_once()

    def runForever(self) -> None:
        """Run every SOURCE_INTERVAL_SECONDS until SIGTERM/SIGINT (or `stop()`)."""
        runtime = self._runtime_or_exit()
        heartbeat("run_forever")
        loop = SourceLoop(runtime.path)
        with self._new_stop_signal() as stop:
            loop.run_forever(stop, Liveness.for_config(runtime.config))

    def lambda_handler(self, event: Any, context: Any) -> dict[str, Any]:
        """Lambda entry point (e.g. a schedule): one source run."""
        path = self.runtime.path
        heartbeat("lambda_handler")
        return {"ingestionId": SourceLoop(path).run_once()}

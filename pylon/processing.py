"""The message path, top to bottom, in one place.

receive (the caller) -> resolve payload -> decode -> call task -> stamp lineage (hook)
-> encode -> offload (hook) -> publish -> delete (the caller, only after publish).

Consumers of a batch (a receive of up to 10, a Lambda event) `prepare` each message and
`publish` the outputs of all of them together: two PublishBatch requests carry the
outputs and ingestion steps of ten inputs, where publishing per message took ten. An
input still counts as done only when every one of ITS outputs was published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pylon.aws.s3 import S3Store
from pylon.codec import decode, encode
from pylon.config import ComponentConfig
from pylon.errors import PublishError, TaskError
from pylon.execution import Execution
from pylon.hooks import Hooks
from pylon.models.messages import BaseMessage
from pylon.payloads import resolve_body
from pylon.result import as_result
from pylon.wire import InboundMessage, WireMessage

logger = logging.getLogger(__name__)

Task = Callable[[BaseMessage | None, ComponentConfig], Any]


class Publisher(Protocol):
    def publish_each(self, messages: Sequence[WireMessage]) -> dict[int, str]:
        """Publish all; return the reason for each index whose entry was not published."""
        ...


class NoOutput:
    """A sink's publisher: sinks have no output topic, so returned messages are dropped."""

    def __init__(self, task_name: str) -> None:
        self._task_name = task_name
        self._warned = False

    def publish_each(self, messages: Sequence[WireMessage]) -> dict[int, str]:
        if messages and not self._warned:
            self._warned = True
            logger.warning(
                "sink %s returned messages; sinks have no output topic, they are dropped",
                self._task_name,
            )
        return {}


def _encoded(execution: Execution) -> list[WireMessage]:
    """The execution's outputs encoded; an error names the output that failed, a label
    built only then (the path would otherwise format one per output of every message)."""
    try:
        return [encode(message) for message in execution.outputs]
    except TaskError:
        label = execution.label
        for index, message in enumerate(execution.outputs):
            encode(message, f"{label}: output {index}")  # raises again, naming the output
        raise


class MessagePath:
    """Runs one message (or one source run, with no inbound message) through the task."""

    def __init__(
        self,
        task: Task,
        task_name: str,
        config: ComponentConfig,
        s3: S3Store,
        publisher: Publisher,
        hooks: Hooks,
    ) -> None:
        self._task = task
        self.task_name = task_name
        self.config = config
        self._s3 = s3
        self._publisher = publisher
        self._hooks = hooks

    def run(self, inbound: InboundMessage | None) -> Execution:
        """Process to the end (published) or raise; the caller deletes only on return."""
        execution = self.prepare(inbound)
        (error,) = self.publish([execution])
        if error is not None:
            raise error
        return execution

    def prepare(self, inbound: InboundMessage | None) -> Execution:
        """Everything before publishing; raise (hooks told) if the message failed.

        The execution is finished by `publish`, which every caller must call with it.
        """
        execution = Execution(self.task_name, self.config, inbound)
        self._hooks.before_message(execution)
        try:
            self._prepare(execution)
        except BaseException as error:
            self._hooks.after_message(execution, error)
            raise
        return execution

    def _prepare(self, execution: Execution) -> None:
        if execution.inbound is not None:
            body_text = resolve_body(execution.inbound, self._s3)
            execution.message = decode(execution.inbound, body_text)
        self._hooks.before_task(execution)
        returned = self._task(execution.message, self.config)
        execution.result = as_result(returned, self.task_name)
        execution.outputs = list(execution.result.messages)
        self._hooks.after_task(execution)
        execution.wires = _encoded(execution)
        self._hooks.before_publish(execution)

    def publish(self, executions: Sequence[Execution]) -> list[Exception | None]:
        """Publish the outputs of `executions` together, then finish each (hooks told).

        Returns, per execution, None when every one of its outputs was published, or the
        error saying why not; such an input must not be deleted.
        """
        wires = [wire for execution in executions for wire in execution.wires]
        errors: list[Exception | None]
        try:
            failures = self._publisher.publish_each(wires)
        except Exception as error:
            # Which entries went out is unknown: every input with outputs counts as failed.
            errors = [error if execution.wires else None for execution in executions]
        except BaseException as error:  # Ctrl-C and the like: finish the hooks, then stop
            self._finish(executions, [error] * len(executions))
            raise
        else:
            errors = self._errors(executions, failures)
        self._finish(executions, errors)
        return errors

    def finish_unpublished(self, execution: Execution, error: BaseException) -> None:
        """Finish (hooks told) a prepared execution that will not be published now."""
        self._hooks.after_message(execution, error)

    def _finish(
        self, executions: Sequence[Execution], errors: Sequence[BaseException | None]
    ) -> None:
        for execution, error in zip(executions, errors, strict=True):
            self._hooks.after_message(execution, error)

    def _errors(
        self, executions: Sequence[Execution], failures: dict[int, str]
    ) -> list[Exception | None]:
        if not failures:
            return [None] * len(executions)
        errors: list[Exception | None] = []
        start = 0
        for execution in executions:
            count = len(execution.wires)
            own = {i - start: failures[i] for i in range(start, start + count) if i in failures}
            start += count
            errors.append(self._publish_error(execution, own) if own else None)
        return errors

    def _publish_error(self, execution: Execution, failures: dict[int, str]) -> PublishError:
        details = "; ".join(f"output {index}: {reason}" for index, reason in failures.items())
        topic = self.config.get("OUTPUT_TOPIC_ARN", "the output topic")
        return PublishError(
            f"{execution.label}: publishing to {topic} failed for {len(failures)} of its "
            f"{len(execution.wires)} outputs: {details}"
        )

"""The message path, top to bottom, in one place.

receive (the caller) -> resolve payload -> decode -> call task -> stamp lineage (hook)
-> encode -> offload (hook) -> publish -> delete (the caller, only after publish).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from pylon.aws.s3 import S3Store
from pylon.codec import decode, encode
from pylon.config import ComponentConfig
from pylon.execution import Execution
from pylon.hooks import Hooks
from pylon.models.messages import BaseMessage
from pylon.payloads import resolve_body
from pylon.result import as_result
from pylon.wire import InboundMessage, WireMessage

logger = logging.getLogger(__name__)

Task = Callable[[BaseMessage | None, ComponentConfig], Any]


class Publisher(Protocol):
    def publish(self, messages: list[WireMessage]) -> None: ...


class NoOutput:
    """A sink's publisher: sinks have no output topic, so returned messages are dropped."""

    def __init__(self, task_name: str) -> None:
        self._task_name = task_name
        self._warned = False

    def publish(self, messages: list[WireMessage]) -> None:
        if messages and not self._warned:
            self._warned = True
            logger.warning(
                "sink %s returned messages; sinks have no output topic, they are dropped",
                self._task_name,
            )


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
        execution = Execution(self.task_name, self.config, inbound)
        self._hooks.before_message(execution)
        try:
            self._run(execution)
        except BaseException as error:
            self._hooks.after_message(execution, error)
            raise
        self._hooks.after_message(execution, None)
        return execution

    def _run(self, execution: Execution) -> None:
        if execution.inbound is not None:
            body_text = resolve_body(execution.inbound, self._s3)
            execution.message = decode(execution.inbound, body_text)
        self._hooks.before_task(execution)
        returned = self._task(execution.message, self.config)
        execution.result = as_result(returned, self.task_name)
        execution.outputs = list(execution.result.messages)
        self._hooks.after_task(execution)
        execution.wires = [
            encode(message, f"{execution.label}: output {index}")
            for index, message in enumerate(execution.outputs)
        ]
        self._hooks.before_publish(execution)
        self._publisher.publish(execution.wires)

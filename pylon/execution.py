"""`Execution`: everything known about one pass of a message through a component."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pylon.config import ComponentConfig
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage
from pylon.result import PylonResult
from pylon.wire import InboundMessage, WireMessage


@dataclass
class Execution:
    """Filled in step by step along the message path; hooks read and amend it."""

    task_name: str
    config: ComponentConfig
    inbound: InboundMessage | None = None
    message: BaseMessage | None = None
    ingestion_step: IngestionStep | None = None
    result: PylonResult = field(default_factory=PylonResult)
    outputs: list[BaseMessage] = field(default_factory=list)
    wires: list[WireMessage] = field(default_factory=list)
    # time.perf_counter() when the message entered the path; kept here, not on a hook,
    # because the messages of a batch are all prepared before any is published.
    started_at: float = field(default_factory=time.perf_counter)

    @property
    def label(self) -> str:
        """How log lines name this execution."""
        if self.inbound is None:
            return f"{self.task_name} (source run)"
        return f"{self.task_name} message {self.inbound.message_id}"

"""Components run as Lambda functions by tests/harness/test_lambda_mode.py.

Deployed functions import this module inside the emulator, so it needs nothing beyond
`pylon` (no pytest, no test fixtures).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pylon
from pylon import BaseMessage, PylonResult
from pylon.config import ComponentConfig

POISON = "poison"


@pylon.PipelineComponent
def upper(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    """Upper-cases the body; a record whose body is "poison" fails."""
    assert message is not None  # a pipeline component always receives a message
    if message.body == POISON:
        raise ValueError("this record is poison")
    message.body = str(message.body).upper()
    return pylon.result([message], {"task": "upper"})


class ExplodingHandler:
    """Stands in for a component whose whole invocation fails (not one record)."""

    def lambda_handler(self, event: Any, context: Any) -> dict[str, Any]:
        raise RuntimeError("the whole invocation failed")


class UnknownRecordReporter:
    """Reports as failed a record that is not in the batch.

    AWS then fails the whole batch; MiniStack 1.5.33 ignores the id and deletes every
    record (an emulator gap, guarded in test_lambda_mode.py).
    """

    def lambda_handler(self, event: Any, context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-record-of-this-batch"}]}


reports_unknown_record = UnknownRecordReporter()


@pylon.PipelineComponent
def crash_once(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    """Upper-cases the body; the first time it meets "crash" the whole runtime dies
    (as on an out-of-memory kill), in the middle of its batch."""
    assert message is not None
    marker = Path(config["CRASH_MARKER"])
    if message.body == "crash" and not marker.exists():
        marker.touch()
        os._exit(137)
    message.body = str(message.body).upper()
    return pylon.result([message], {"task": "crash_once"})

"""The hook that writes heartbeats and `timed_execution` lines around each message."""

from __future__ import annotations

import time

from pylon.execution import Execution
from pylon.hooks import Hook
from pylon.logs import heartbeat, log_timing


class TimingHook(Hook):
    """`heartbeat core_process`, then `core_process` (the task) and `total` (the whole path).

    `total` runs until the message's outputs are published, which for a batch is after
    the other messages of the batch were prepared too: the latency the message saw.
    """

    def __init__(self) -> None:
        self._task_start = 0.0

    def before_task(self, execution: Execution) -> None:
        heartbeat("core_process")
        self._task_start = time.perf_counter()

    def after_task(self, execution: Execution) -> None:
        log_timing(
            "core_process", (time.perf_counter() - self._task_start) * 1000, *_step(execution)
        )

    def after_message(self, execution: Execution, error: BaseException | None) -> None:
        log_timing("total", (time.perf_counter() - execution.started_at) * 1000, *_step(execution))


def _step(execution: Execution) -> tuple[str | None, str | None]:
    """The ingestion step this execution recorded and its input's ingestionId (a sink
    records no step: only its input's id then)."""
    step = execution.ingestion_step
    if step is not None:
        return step.ingestionId, step.parentIngestionId
    message = execution.message
    return None, message.ingestionId if message is not None else None

"""Pylon's fixed-shape log lines: heartbeats, liveness and CloudWatch-friendly timings.

Line shapes are a contract with CloudWatch metric filters, so they are fixed here:
  `heartbeat run_once|run_forever|lambda_handler` exactly once per start,
  `heartbeat core_process` once per message,
  `liveness run_forever polls=<n> messages=<n>` at most once per LIVENESS_INTERVAL_SECONDS
  while a `runForever` loop runs (a separate word, so a filter counting starts never
  counts it),
  `timed_execution core_process|total <milliseconds> ms`
which `[..., metric=timed_execution, name=core_process|total, time, unit]` matches.
Formats, redaction and the handler are `pylon.log_format`'s; how a line is written
cheaply (three go out per message) is `pylon.log_lines`'.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pylon.log_lines import write_info

if TYPE_CHECKING:
    from pylon.config import ComponentConfig

logger = logging.getLogger("pylon")


def heartbeat(where: str) -> None:
    write_info(logger, f"heartbeat {where}", _heartbeat_fields, where)


def _heartbeat_fields(where: str) -> dict[str, object]:
    return {"heartbeat": where}


class Liveness:
    """The `liveness run_forever` line: proof that an idle loop still polls, rate-limited.

    A start heartbeat is logged once per start, so a loop that waits hours for work would
    otherwise say nothing; this line says it is alive at most once per interval (and
    never on the first poll: the start heartbeat just said so). An interval of 0 turns
    it off.
    """

    def __init__(self, interval_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._interval = interval_seconds
        self._clock = clock
        self._last = clock()
        self._polls = 0
        self._messages = 0

    @classmethod
    def for_config(cls, config: ComponentConfig) -> Liveness:
        return cls(config.liveness_interval_seconds)

    def poll(self, messages: int) -> None:
        """Count one poll (and the messages it brought); log the line when one is due."""
        self._polls += 1
        self._messages += messages
        if not self._interval or self._clock() - self._last < self._interval:
            return
        polls, messages = self._polls, self._messages
        write_info(
            logger,
            f"liveness run_forever polls={polls} messages={messages}",
            _liveness_fields,
            polls,
            messages,
        )
        self._last, self._polls, self._messages = self._clock(), 0, 0


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Log the wall time of the block as a `timed_execution` line, even when it raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        log_timing(name, (time.perf_counter() - start) * 1000)


def log_timing(
    name: str,
    milliseconds: float,
    ingestion_id: str | None = None,
    parent_ingestion_id: str | None = None,
) -> None:
    """The `timed_execution` line. `ingestion_id` (the step the execution recorded) and
    `parent_ingestion_id` (its input's) go into the JSON fields only, so tools can tell
    which message a figure is about; the text line stays the documented pattern."""
    write_info(
        logger,
        f"timed_execution {name} {milliseconds:.3f} ms",
        _timing_fields,
        name,
        milliseconds,
        ingestion_id,
        parent_ingestion_id,
    )


def _liveness_fields(polls: int, messages: int) -> dict[str, object]:
    return {"liveness": "run_forever", "polls": polls, "messages": messages}


def _timing_fields(
    name: str, milliseconds: float, ingestion_id: str | None, parent_ingestion_id: str | None
) -> dict[str, object]:
    fields: dict[str, object] = {
        "metric": "timed_execution",
        "timer": name,
        "time_ms": round(milliseconds, 3),
    }
    if ingestion_id:
        fields["ingestion_id"] = ingestion_id
    if parent_ingestion_id:
        fields["parent_ingestion_id"] = parent_ingestion_id
    return fields

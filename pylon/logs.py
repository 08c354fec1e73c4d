"""Logging: heartbeats, CloudWatch-friendly timings, JSON format, secret redaction.

Line shapes are a contract with CloudWatch metric filters, so they are fixed here:
  `heartbeat run_once|run_forever|lambda_handler` exactly once per start,
  `heartbeat core_process` once per message,
  `liveness run_forever polls=<n> messages=<n>` at most once per LIVENESS_INTERVAL_SECONDS
  while a `runForever` loop runs (a separate word, so a filter counting starts never
  counts it),
  `timed_execution core_process|total <milliseconds> ms`
which `[..., metric=timed_execution, name=core_process|total, time, unit]` matches.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylon.config import ComponentConfig

logger = logging.getLogger("pylon")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "***"


def heartbeat(where: str) -> None:
    _info("heartbeat %s", (where,), {"heartbeat": where})


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
        _info(
            "liveness run_forever polls=%d messages=%d",
            (self._polls, self._messages),
            {"liveness": "run_forever", "polls": self._polls, "messages": self._messages},
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
    extra: dict[str, object] = {
        "metric": "timed_execution",
        "timer": name,
        "time_ms": round(milliseconds, 3),
    }
    if ingestion_id:
        extra["ingestion_id"] = ingestion_id
    if parent_ingestion_id:
        extra["parent_ingestion_id"] = parent_ingestion_id
    _info("timed_execution %s %.3f ms", (name, milliseconds), extra)


def _info(message: str, args: tuple[object, ...], extra: dict[str, object]) -> None:
    """`logger.info` for the fixed-shape lines above, without the caller lookup.

    Three of these go out per message, and `findCaller`'s stack walk is a good part of a
    log line's cost; the file and line of a metric line tell nothing. Level, filters,
    handlers, propagation and redaction apply exactly as for `logger.info`.
    """
    if logger.isEnabledFor(logging.INFO):
        logger.handle(
            logger.makeRecord(
                logger.name, logging.INFO, "pylon", 0, message, args, None, extra=extra
            )
        )


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, with the timestamp's date and time formatted once per second.

    `strftime` is a good part of formatting a line, and a component logs three lines per
    message; only the milliseconds change within a second.
    """

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")  # one tuple: swapped atomically

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, text = self._second
        if int(record.created) != second:
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (int(record.created), text)
        return f"{text},{int(record.msecs):03d}"  # logging.Formatter.default_msec_format


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for CloudWatch Logs Insights and JSON metric filters."""

    _EXTRAS = (
        "heartbeat",
        "liveness",
        "polls",
        "messages",
        "metric",
        "timer",
        "time_ms",
        "message_id",
        "ingestion_id",
        "parent_ingestion_id",
    )

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: getattr(record, k) for k in self._EXTRAS if hasattr(record, k)})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, default=str)


class SecretRedactor(logging.Filter):
    """Replaces known secret values (config values) in every record that passes a handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("pylon-secret-redactor")
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


class _PylonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler Pylon added, so configuring twice does not add a second one."""


def configure_logging(
    log_format: str = "text", level: str = "INFO", secrets: Iterable[str] = ()
) -> None:
    """Install Pylon's handler (unless the host, e.g. Lambda, already has one) and redaction.

    The redactor goes on every root handler: filters on a logger do not see records that
    propagate from child loggers, but handler filters see them all.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(_PylonHandler(sys.stderr))
    for handler in root.handlers:
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        elif isinstance(handler, _PylonHandler):
            handler.setFormatter(TextFormatter())
        _replace_redactor(handler, secrets)
    logger.setLevel(level.upper())


def _replace_redactor(handler: logging.Handler, secrets: Iterable[str]) -> None:
    for existing in [f for f in handler.filters if isinstance(f, SecretRedactor)]:
        handler.removeFilter(existing)
    handler.addFilter(SecretRedactor(secrets))

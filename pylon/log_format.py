"""How log lines look and what they may not show: text and JSON formats, secret
redaction, and the handler a component installs when its host has none."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "***"
# `,000` to `,999`: what logging.Formatter.default_msec_format appends, formatted once.
_MSEC_SUFFIXES = tuple(f",{msecs:03d}" for msecs in range(1000))


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, with the timestamp's date and time formatted once per second.

    `strftime` is a good part of formatting a line, and a component logs three lines per
    message; only the milliseconds change within a second.
    """

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")  # one tuple: swapped atomically

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return self.timestamp(record.created)

    def timestamp(self, created: float) -> str:
        """`asctime` of a record created at `created` (what `formatTime` writes)."""
        whole = int(created)
        second, text = self._second
        if whole != second:
            text = time.strftime(self.default_time_format, self.converter(created))
            self._second = (whole, text)
        msecs = int((created - whole) * 1000)  # as LogRecord computes `msecs`
        if created < 0:  # before 1970: `msecs` is negative, as logging writes it
            return f"{text},{msecs:03d}"
        return text + _MSEC_SUFFIXES[msecs]  # logging.Formatter.default_msec_format


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
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.msg, record.args = self.redact(record.getMessage()), None
        return True

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced, the longest first."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


class PylonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler Pylon adds when the host has none: marked, so configuring twice does not
    add a second one, and so `pylon.log_lines` knows whose format it writes."""


def configure_logging(
    log_format: str = "text", level: str = "INFO", secrets: Iterable[str] = ()
) -> None:
    """Install Pylon's handler (unless the host, e.g. Lambda, already has one) and redaction.

    The redactor goes on every root handler: filters on a logger do not see records that
    propagate from child loggers, but handler filters see them all.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(PylonHandler(sys.stderr))
    for handler in root.handlers:
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        elif isinstance(handler, PylonHandler):
            handler.setFormatter(TextFormatter())
        _replace_redactor(handler, secrets)
    logging.getLogger("pylon").setLevel(level.upper())


def _replace_redactor(handler: logging.Handler, secrets: Iterable[str]) -> None:
    for existing in [f for f in handler.filters if isinstance(f, SecretRedactor)]:
        handler.removeFilter(existing)
    handler.addFilter(SecretRedactor(secrets))

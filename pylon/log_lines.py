"""Writing Pylon's fixed-shape INFO lines (heartbeats, timings, liveness) cheaply.

A component writes three such lines per message. Through `logging` each costs a
LogRecord (a clock read, path and thread look-ups), a walk of the logger tree, a
formatter and a flush: together about as much as decoding the message. Two cheaper
routes, both writing exactly what `logging` would:

- **Direct:** when nothing but Pylon's own text handler can see the line (the `pylon`
  logger has no handlers or filters and propagates straight to a root whose one handler
  is the one `configure_logging` installed, with Pylon's text format and only the secret
  redactor), the line is formatted here and written to that handler's stream under its
  lock. This is how a component runs in a container.
- **Record:** otherwise (pytest's caplog, the JSON format, Lambda's own handler, a
  user's handler) a real LogRecord goes through `Logger.handle`, so levels, filters,
  handlers, propagation and redaction apply as always; it is built from a template
  instead of by `LogRecord.__init__`, unless a custom record factory is installed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from pylon.log_format import PylonHandler, SecretRedactor, TextFormatter

# Makes the record fields of a line from the arguments `write_info` was given after it;
# called only when a record is built (the direct route needs none).
Fields = Callable[..., dict[str, object]]


def write_info(logger: logging.Logger, text: str, fields: Fields, *args: object) -> None:
    """Log `text` (already formatted) at INFO on `logger`, with `fields(*args)` as the
    record's fields (a function and its arguments, not a closure: no line pays for one)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _sole_pylon_handler(logger)
    if handler is None:
        logger.handle(_record(logger, text, fields(*args)))
        return
    # The direct route: the line as Pylon's text handler would format and write it.
    for redactor in handler.filters:
        if redactor.secrets:  # type: ignore[union-attr]
            text = redactor.redact(text)  # type: ignore[union-attr]
    formatter: TextFormatter = handler.formatter  # type: ignore[assignment]
    line = (
        f"{formatter.timestamp(time.time())} {logging.getLevelName(logging.INFO)} "
        f"{logger.name} {text}{handler.terminator}"
    )
    with handler.lock:  # type: ignore[union-attr]
        try:
            stream = handler.stream  # read under the lock, as setStream swaps it under it
            stream.write(line)
            stream.flush()
        except Exception:  # what StreamHandler.emit does with a failed write
            handler.handleError(_record(logger, text, fields(*args)))


def _sole_pylon_handler(logger: logging.Logger) -> PylonHandler | None:
    """Pylon's text handler when it is the only thing that could see `logger`'s line."""
    root = logging.root
    if logger.handlers or logger.filters or not logger.propagate or logger.parent is not root:
        return None
    handlers = root.handlers
    if len(handlers) != 1 or root.filters or root.disabled or logger.disabled:
        return None
    handler = handlers[0]
    if type(handler) is not PylonHandler or type(handler.formatter) is not TextFormatter:
        return None
    if handler.level > logging.INFO:
        return None
    for line_filter in handler.filters:
        if type(line_filter) is not SecretRedactor:
            return None
    return handler


class _RecordTemplate:
    """The fields every Pylon line's LogRecord shares, from one real record per process."""

    def __init__(self, logger_name: str) -> None:
        self.pid = os.getpid()
        self.fields = dict(
            logging.LogRecord(logger_name, logging.INFO, "pylon", 0, "", None, None).__dict__
        )


_templates: dict[str, _RecordTemplate] = {}
# When `logging` was imported: LogRecord's `relativeCreated` counts from it.
_LOGGING_START: float = logging._startTime  # type: ignore[attr-defined]


def _record(logger: logging.Logger, text: str, extra: dict[str, object]) -> logging.LogRecord:
    if logging.getLogRecordFactory() is not logging.LogRecord:
        return logger.makeRecord(
            logger.name, logging.INFO, "pylon", 0, text, (), None, extra=extra
        )
    template = _templates.get(logger.name)
    if template is None or template.pid != os.getpid():  # a forked child: its own pid
        template = _templates[logger.name] = _RecordTemplate(logger.name)
    record = logging.LogRecord.__new__(logging.LogRecord)
    fields: dict[str, Any] = record.__dict__
    fields.update(template.fields)
    now = time.time()
    fields["created"] = now
    fields["msecs"] = int((now - int(now)) * 1000) + 0.0
    fields["relativeCreated"] = (now - _LOGGING_START) * 1000
    fields["msg"] = text
    if logging.logThreads:
        fields["thread"] = threading.get_ident()
        fields["threadName"] = threading.current_thread().name
    fields.update(extra)
    return record

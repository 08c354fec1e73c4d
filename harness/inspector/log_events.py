"""Components' log lines as events for the inspector: heartbeats, timings, failures.

Under `pylon up --ui` the components log JSON (`LOG_FORMAT=json`), whose fields say which
step a `timed_execution` figure is about; `LogTap` turns each line into an event and
hands the terminal the same text line a component logging text would have printed, so
the console reads as it always does. Text lines are understood too (heartbeats and
failures carry what the inspector needs; timings then have no step to attach to).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from datetime import datetime
from typing import Any

from harness.inspector.store import LogEvent, MessageStore
from harness.processes.output import LineSink
from harness.spec import PipelineSpec
from pylon.log_format import JsonFormatter

_FAILURE = re.compile(r"message (?P<id>\S+) failed(?: \(receive \d+\))?: (?P<reason>.*?); it stays")
_HEARTBEAT = re.compile(r"\b(heartbeat|liveness) (\w+)")


class LogTap:
    """A LineSink: records events from each component line, then passes the line on."""

    def __init__(self, store: MessageStore, echo: LineSink) -> None:
        self._store = store
        self._echo = echo

    def __call__(self, name: str, line: str) -> None:
        record = _json(line)
        if record is None:
            text_event(self._store, name, line)
            self._echo(name, line)
            return
        json_event(self._store, name, record)
        self._echo(name, as_text(record))


class RecordTap(logging.Handler):
    """The same events from in-process components, which log through this process's
    logging from threads named `pylon-NAME` (harness.run.inprocess)."""

    def __init__(self, store: MessageStore) -> None:
        super().__init__(logging.INFO)
        self._store = store
        self._format = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        thread = record.threadName or ""
        if thread.startswith(_THREAD_PREFIX):
            json_event(
                self._store,
                thread.removeprefix(_THREAD_PREFIX),
                json.loads(self._format.format(record)),
            )


_THREAD_PREFIX = "pylon-"


def json_event(store: MessageStore, component: str, record: dict[str, Any]) -> None:
    """The event a JSON log record is (a timing, a heartbeat, a failure), if any."""
    message = str(record.get("message", ""))
    if record.get("metric") == "timed_execution":
        store.add_event(
            LogEvent(
                component,
                "timing",
                time.time(),
                ingestion_id=record.get("ingestion_id"),
                parent_ingestion_id=record.get("parent_ingestion_id"),
                timer=record.get("timer"),
                milliseconds=float(record.get("time_ms", 0)),
            )
        )
    elif record.get("heartbeat") or record.get("liveness"):
        store.add_event(LogEvent(component, "heartbeat", time.time(), text=message))
    else:
        text_event(store, component, message)


def text_event(store: MessageStore, component: str, line: str) -> None:
    """Text lines carry failures and heartbeats (timings have no step to attach to)."""
    failure = _FAILURE.search(line)
    if failure:
        store.add_event(
            LogEvent(
                component,
                "failure",
                time.time(),
                message_id=failure.group("id"),
                text=failure.group("reason"),
            )
        )
    elif _HEARTBEAT.search(line):
        store.add_event(LogEvent(component, "heartbeat", time.time(), text=line))


def with_json_logs(spec: PipelineSpec) -> PipelineSpec:
    """`spec` with every component logging JSON (`LOG_FORMAT=json`): its timing lines
    then say which step they are about; `LogTap` prints them as text again."""
    components = {
        name: dataclasses.replace(c, config={**c.config, "LOG_FORMAT": "json"})
        for name, c in spec.components.items()
    }
    return dataclasses.replace(spec, components=components)


def _json(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "message" in record else None


def as_text(record: dict[str, Any]) -> str:
    """A JSON log record as Pylon's text format prints it (without the date)."""
    try:
        moment = datetime.fromisoformat(str(record.get("timestamp")))
        stamp = moment.strftime("%H:%M:%S,") + f"{moment.microsecond // 1000:03d}"
    except ValueError:
        stamp = "--:--:--,---"
    text = (
        f"{stamp} {record.get('level', '')} {record.get('logger', '')} {record.get('message', '')}"
    )
    if record.get("exception"):
        text += f"\n{record['exception']}"
    return text

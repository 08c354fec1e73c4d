"""Each watched component's state, its retries after a crash, and its output while retrying.

A component that fails to import or crashes at start is retried with an exponential
backoff (1 s, 2 s, 4 s … capped at 30 s) and at once on the next save. Its traceback is
shown once: the same report again (a retry, a second save of the same broken code) is
dropped; a different one is shown.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from harness.processes.output import LineSink

BACKOFF_START_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
# A (re)started component that keeps running this long is up: its retries are over.
STABLE_SECONDS = 3.0


class State(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"
    CRASHED = "crashed"


def backoff_seconds(crashes: int) -> float:
    """How long to wait before retry number `crashes` (1, 2, 4, … capped)."""
    return float(min(BACKOFF_CAP_SECONDS, BACKOFF_START_SECONDS * 2.0 ** max(0, crashes - 1)))


@dataclass
class Watched:
    """One component under watch: its code, its state, its retries."""

    name: str
    files: frozenset[Path]
    version: str
    state: State = State.RESTARTING
    started_at: float = field(default_factory=time.monotonic)
    crashes: int = 0
    retry_at: float | None = None

    def describe(self, now: float) -> str:
        text = f"{self.name} {self.state.value} {self.version}"
        if self.state is State.CRASHED and self.retry_at is not None:
            text += f" (retry in {max(0.0, self.retry_at - now):.0f} s, or on save)"
        return text


class QuietRetries:
    """A LineSink in front of the console that shows each crash report once.

    Lines pass straight through, except a crash report (`harness.run.launch`'s
    `error: component … failed to load:` or a `Traceback`, through its exception line),
    which is held until complete and dropped when it repeats the component's last one:
    retries of the same broken code, or two saves of it, print nothing new. Log lines of
    a process still finishing its message pass through even in the middle of a report.
    Once the component runs (`stable`), its next crash is reported again.
    """

    def __init__(self, sink: LineSink) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self._open: dict[str, list[str]] = {}
        self._last: dict[str, list[str]] = {}
        self._fresh: set[str] = set()  # shown a new report since the last crash

    def __call__(self, name: str, line: str) -> None:
        shown: list[str] = []
        with self._lock:
            report = self._open.get(name)
            if _LOG_LINE.match(line) or (report is None and not line.startswith(_CRASH_STARTS)):
                shown = [line]
            elif report is None:
                self._open[name] = [line]
            else:
                report.append(line)
                if not line.startswith((" ", *_CRASH_STARTS)) and line.strip():
                    shown = self._close(name)
        for text in shown:
            self._sink(name, text)

    def _close(self, name: str) -> list[str]:
        """The finished report, to show unless it repeats the last one (lock held)."""
        report = self._open.pop(name, [])
        if report == self._last.get(name):
            return []
        self._last[name] = report
        self._fresh.add(name)
        return report

    def crashed(self, name: str) -> bool:
        """The component's process ended: an unfinished report is settled now. True
        when the crash showed a report of its own (not a repeat)."""
        with self._lock:
            shown = self._close(name) if name in self._open else []
            new = name in self._fresh
            self._fresh.discard(name)
        for text in shown:
            self._sink(name, text)
        return new

    def stable(self, name: str) -> None:
        """The component runs: its next crash is news, whatever it says."""
        with self._lock:
            self._last.pop(name, None)


# How a crash report begins: Python's traceback, or `harness.run.launch`'s error line.
_CRASH_STARTS = ("Traceback (most recent call last)", "error: ")
# A component's log line (text with its date or time, or JSON): not part of a crash report.
_LOG_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2},\d{3} |^\{")

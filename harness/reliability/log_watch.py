"""What running components log: every line, actions on cue, and why each message failed.

`LogWatch` is a `LineSink` (hand it to a ProcessRunner or a LocalPipeline). It keeps
each component's lines, runs an action the moment a component logs a given text (kill
it exactly as it takes a message in hand), and reads Pylon's failure lines
(`pylon.worker.log_failure`, `pylon.leases`) to tell why each message failed: the
reason that goes with a message to the dead-letter queue.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from harness.processes.output import LineSink

# The shapes of pylon.worker.log_failure and of the lease keeper's hung-task line.
_FAILURE = re.compile(
    r"message (?P<id>\S+) failed(?: \(receive (?P<receive>\d+)\))?: (?P<reason>.*?); "
    r"it stays in the queue"
)
_HUNG = re.compile(r"message (?P<id>\S+) hung: (?P<reason>.*?); releasing")


@dataclass(frozen=True)
class Failure:
    """One logged failure of one message."""

    component: str
    message_id: str
    reason: str
    receive: int | None = None


@dataclass
class _Cue:
    component: str
    text: str
    action: Callable[[], None]


class LogWatch:
    """Collects component log lines (thread-safe); optionally echoes them on."""

    def __init__(self, echo: LineSink | None = None) -> None:
        self._echo = echo
        self._lock = threading.Lock()
        self._lines: list[tuple[str, str]] = []
        self._cues: list[_Cue] = []
        self.failures: list[Failure] = []

    def __call__(self, name: str, line: str) -> None:
        failure = _parse_failure(name, line)
        with self._lock:
            self._lines.append((name, line))
            if failure is not None:
                self.failures.append(failure)
            due = [c for c in self._cues if c.component == name and c.text in line]
            self._cues = [c for c in self._cues if c not in due]
        for cue in due:
            cue.action()
        if self._echo is not None:
            self._echo(name, line)

    def on_next(self, component: str, text: str, action: Callable[[], None]) -> None:
        """Run `action` (once, on the reading thread) when `component` next logs `text`."""
        with self._lock:
            self._cues.append(_Cue(component, text, action))

    def lines(self, component: str | None = None) -> list[str]:
        with self._lock:
            return [line for name, line in self._lines if component in (None, name)]

    def count(self, text: str, component: str | None = None) -> int:
        return sum(1 for line in self.lines(component) if text in line)

    def reasons(self) -> dict[str, str]:
        """The last logged reason for each message id that failed."""
        with self._lock:
            return {f.message_id: f.reason for f in self.failures}


def _parse_failure(component: str, line: str) -> Failure | None:
    match = _FAILURE.search(line)
    if match:
        receive = int(match["receive"]) if match["receive"] else None
        return Failure(component, match["id"], match["reason"], receive)
    match = _HUNG.search(line)
    if match:
        return Failure(component, match["id"], f"hung: {match['reason']}")
    return None

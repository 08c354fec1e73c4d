"""Context-manager plumbing shared by everything the harness starts or opens.

`Running` things (runners, emulators, a local pipeline) are started on entering a `with`
block and stopped on leaving it; `Closing` things (taps, recorders, writers) are open
from construction and closed on leaving it. Subclasses write `start`/`stop` or `close`
only.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Running(ABC):
    """Started by `with`, stopped when the block ends (however it ends)."""

    @abstractmethod
    def start(self) -> object:
        """Start; return once running."""

    @abstractmethod
    def stop(self) -> object:
        """Stop and release what `start` took; safe to call twice."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Closing(ABC):
    """Open from construction; closed when the `with` block ends (however it ends)."""

    @abstractmethod
    def close(self) -> object:
        """Release what the object holds (queues, subscriptions, files)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Periodic(Running):
    """Calls `tick()` every `interval_s` on a daemon thread, from `start()` to `stop()`."""

    thread_name = "periodic"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def tick(self) -> None:
        """One round of the work; exceptions it does not handle end the thread."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.tick()

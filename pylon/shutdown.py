"""Graceful stop on SIGTERM/SIGINT: finish the message in hand, then return.

ECS sends SIGTERM and waits `stopTimeout` before SIGKILL; a second Ctrl-C forces an
immediate KeyboardInterrupt for impatient humans.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

logger = logging.getLogger(__name__)


class StopSignal:
    """Set by a signal (or by `request()`); the worker loop checks it between messages."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on a stop; True if a stop was requested."""
        return self._event.wait(seconds)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        logger.info(
            "received %s: finishing the message in hand, then stopping", signal.Signals(signum).name
        )
        self._event.set()

    def __enter__(self) -> StopSignal:
        # Signal handlers can only be installed from the main thread (in-process test
        # runners call runForever from others; they stop it with request()).
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

"""Keeping a helper thread on the core its owner thread runs on.

Python runs one thread at a time (the GIL), so spreading a process's threads over cores
gains it nothing, but Linux wakes a thread on whichever core is idle. The delete thread
(`pylon.deletes`) then runs botocore on a core whose caches hold none of the process's
objects, and the loop finds its own caches cold when it takes the interpreter back.
Measured with `bench.throughput` (one consumer, 4,000 messages, each botocore call's
thread CPU timed): with the delete thread free to wander, receive, publish and delete
cost 18 %, 7 % and 15 % more CPU than in the limit loop, about 60 µs per message in all,
and Pylon's own work about 15 µs more; with the thread kept on the loop's core, the calls
cost what the limit loop's do.

`CoreFollower.follow()`, called by the owner once per batch, pins the helper to the core
the owner is on at that moment. The owner itself stays free to move, so the scheduler
still balances processes across cores; the helper follows at the next batch. Where the
platform cannot say or set a thread's core (not Linux, a C library without
`sched_getcpu`, an affinity refused), it does nothing and the helper runs where Linux
puts it, as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Reads the core the calling thread runs on (glibc's and musl's sched_getcpu).
CoreReader = Callable[[], int]


def core_reader() -> CoreReader | None:
    """The C library's `sched_getcpu`, or None where it or thread affinity is missing."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        getcpu = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    getcpu.argtypes = []
    getcpu.restype = ctypes.c_int
    return getcpu


class CoreFollower:
    """Pins a started `helper` thread to the core of whoever calls `follow()`."""

    def __init__(self, helper: threading.Thread, reader: CoreReader | None = None) -> None:
        if helper.native_id is None:
            raise ValueError(f"thread {helper.name} must be started before it can follow")
        self._helper_id = helper.native_id
        self._helper_name = helper.name
        self._read_core = reader if reader is not None else core_reader()
        self._core = -1  # where the helper is pinned now; -1: nowhere yet

    def follow(self) -> int | None:
        """Pin the helper to the caller's core, if it is not there already; that core,
        or None where it cannot be done."""
        if self._read_core is None:
            return None
        core = self._read_core()
        if core == self._core:
            return core
        if core < 0:  # sched_getcpu failed: leave the helper where it is
            return None
        try:
            os.sched_setaffinity(self._helper_id, {core})
        except OSError as error:
            self._give_up(error)
            return None
        self._core = core
        return core

    def _give_up(self, error: OSError) -> None:
        """Stop following, and let the helper run on every core the process may use."""
        self._read_core = None
        logger.debug(
            "thread %s cannot be kept on its owner's core (%s); it runs where Linux puts it",
            self._helper_name,
            error,
        )
        if self._core >= 0:
            # If even that is refused the thread keeps its last core: it still runs there.
            with contextlib.suppress(OSError):
                os.sched_setaffinity(self._helper_id, os.sched_getaffinity(0))

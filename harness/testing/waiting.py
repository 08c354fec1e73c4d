"""Waiting for a condition with a deadline — never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


class WaitTimeoutError(HarnessError, AssertionError):
    """The condition did not hold in time; the message says what was seen instead."""


def wait_until(
    probe: Callable[[], T | None],
    timeout_s: float = 15.0,
    interval_s: float = 0.05,
    describe: Callable[[], str] = lambda: "",
    what: str = "condition",
) -> T:
    """Call `probe` until it returns something truthy; return that, or raise WaitTimeoutError."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            seen = describe()
            raise WaitTimeoutError(
                f"timed out after {timeout_s:g}s waiting for {what}"
                + (f"; seen: {seen}" if seen else "")
            )
        time.sleep(interval_s)

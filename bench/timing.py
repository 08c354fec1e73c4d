"""Timing on a shared machine: the fastest of several runs is the least disturbed one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def best_of(repeat: int, run: Callable[[], Any]) -> float:
    """Seconds of the fastest of `repeat` calls of `run`."""
    return best_of_prepared(repeat, lambda: None, lambda _: run())


def best_of_prepared(repeat: int, prepare: Callable[[], T], run: Callable[[T], Any]) -> float:
    """Seconds of the fastest of `repeat` calls of `run(prepare())`, preparation untimed."""
    best = float("inf")
    for _ in range(repeat):
        prepared = prepare()
        started = time.perf_counter()
        run(prepared)
        best = min(best, time.perf_counter() - started)
    return best

"""The error a benchmark raises when it cannot measure (not when a target is missed)."""

from __future__ import annotations

from pylon.errors import PylonError


class BenchmarkError(PylonError):
    """A benchmark could not measure: say what failed, where, and what to check."""

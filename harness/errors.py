"""Errors raised by the local environment and test harness.

They sit under `pylon.errors.PylonError` so a user can catch everything Pylon raises
on purpose with one `except`, while still telling a harness problem (an emulator that
will not start) from a runtime one (a malformed message).
"""

from __future__ import annotations

from pylon.errors import PylonError


class HarnessError(PylonError):
    """Base of every error the harness raises on purpose."""


class EmulatorError(HarnessError):
    """An emulator cannot be installed, started, reached, reset or stopped."""

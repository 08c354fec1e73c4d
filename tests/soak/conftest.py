"""The soak uses the reliability tests' own emulator fixture."""

from tests.e2e.conftest import dedicated_emulator

__all__ = ["dedicated_emulator"]

"""The runtime tests use the reliability tests' emulator fixture for AUTH-enforcing cases."""

from tests.e2e.conftest import dedicated_emulator

__all__ = ["dedicated_emulator"]

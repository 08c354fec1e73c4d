"""AWS emulators the harness can run or attach to, behind one `Emulator` interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulators.admin import reset_state, wait_until_healthy
from harness.emulators.base import Emulator
from harness.emulators.external import ExternalEmulator
from harness.endpoints import AwsEndpoint, require_loopback

if TYPE_CHECKING:
    from harness.emulators.localstack import LocalStackEmulator
    from harness.emulators.ministack import MINISTACK_VERSION, MiniStack, install
    from harness.emulators.ministack_container import MiniStackContainer
    from harness.emulators.moto_server import MotoServer

__all__ = [
    "MINISTACK_VERSION",
    "AwsEndpoint",
    "Emulator",
    "ExternalEmulator",
    "LocalStackEmulator",
    "MiniStack",
    "MiniStackContainer",
    "MotoServer",
    "install",
    "require_loopback",
    "reset_state",
    "wait_until_healthy",
]

_FROM_MINISTACK = frozenset({"MINISTACK_VERSION", "MiniStack", "install"})


def __getattr__(name: str) -> object:
    # Imported on first use, not here: `python -m harness.emulators.ministack` runs that
    # module as a script, and runpy warns when the package has already imported it.
    if name in _FROM_MINISTACK:
        from harness.emulators import ministack

        return getattr(ministack, name)
    if name == "LocalStackEmulator":  # needs the docker extra: imported only when asked for
        from harness.emulators.localstack import LocalStackEmulator

        return LocalStackEmulator
    if name == "MiniStackContainer":
        from harness.emulators.ministack_container import MiniStackContainer

        return MiniStackContainer
    if name == "MotoServer":
        from harness.emulators.moto_server import MotoServer

        return MotoServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

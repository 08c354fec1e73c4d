"""The emulators Pylon can start itself, by name: for `--emulator` and `PYLON_EMULATOR`.

with new_emulator(EmulatorKind.LOCALSTACK) as emulator: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from harness.emulators.base import Emulator
from harness.errors import EmulatorError

EMULATOR_ENV_VAR = "PYLON_EMULATOR"


class EmulatorKind(StrEnum):
    """`embedded`: MiniStack as a subprocess (the default, no Docker needed).
    `localstack`: real LocalStack in a container (DynamoDB and Lambda on MiniStack).
    `ministack-container`: MiniStack in a container (the embedded one's twin).
    `moto`: moto in server mode, as a subprocess.
    """

    EMBEDDED = "embedded"
    LOCALSTACK = "localstack"
    MINISTACK_CONTAINER = "ministack-container"
    MOTO = "moto"


# The kinds that need a Docker engine.
CONTAINER_KINDS = frozenset({EmulatorKind.LOCALSTACK, EmulatorKind.MINISTACK_CONTAINER})


def emulator_kind(explicit: str | None, environ: Mapping[str, str]) -> EmulatorKind:
    """The kind asked for by an option, else $PYLON_EMULATOR, else embedded."""
    name = explicit or environ.get(EMULATOR_ENV_VAR) or EmulatorKind.EMBEDDED.value
    try:
        return EmulatorKind(name)
    except ValueError:
        source = "the option" if explicit else f"${EMULATOR_ENV_VAR}"
        raise EmulatorError(
            f"{source} asks for emulator {name!r}; use one of {[k.value for k in EmulatorKind]}"
        ) from None


def new_emulator(kind: EmulatorKind) -> Emulator:
    """An emulator of that kind, configured from the environment and not yet started.

    Each is imported only when asked for: the container ones need the docker extra, moto
    the conformance extra, and the embedded emulator neither.
    """
    if kind is EmulatorKind.LOCALSTACK:
        from harness.emulators.localstack import LocalStackEmulator

        return LocalStackEmulator()
    if kind is EmulatorKind.MINISTACK_CONTAINER:
        from harness.emulators.ministack_container import MiniStackContainer

        return MiniStackContainer()
    if kind is EmulatorKind.MOTO:
        from harness.emulators.moto_server import MotoServer

        return MotoServer()
    from harness.emulators.ministack import MiniStack

    return MiniStack()

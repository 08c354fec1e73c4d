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
    `localstack`: a LocalStack-compatible container through testcontainers.
    """

    EMBEDDED = "embedded"
    LOCALSTACK = "localstack"


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
    """An emulator of that kind, configured from the environment and not yet started."""
    if kind is EmulatorKind.LOCALSTACK:
        # Imported here: it needs the docker extra, which the embedded emulator does not.
        from harness.emulators.localstack import LocalStackEmulator

        return LocalStackEmulator()
    from harness.emulators.ministack import MiniStack

    return MiniStack()

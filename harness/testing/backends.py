"""Test backends: which emulator a test's pipeline talks to, and how its components run.

`embedded` is MiniStack as a subprocess with components as threads; `containers` is real
LocalStack in a container with components as containers of the Pylon base image. The
emulator backends of the conformance suite (`CONFORMANCE_BACKENDS`) run components as
threads against MiniStack in a container, LocalStack, and moto in server mode.
The pytest plugin's `pylon_backend` fixture hands one out, so one test can run on all:

    @pytest.mark.parametrize("pylon_backend", ALL_BACKENDS, indirect=True)
    def test_it(pylon_backend, pylon_pipeline): ...
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.emulators.base import Emulator
from harness.emulators.kinds import CONTAINER_KINDS, EmulatorKind, new_emulator


@dataclass(frozen=True)
class Backend:
    """A named pairing of an emulator and a component runner (a `Runner` value)."""

    name: str
    emulator: Emulator
    run: str


# name -> (emulator kind, runner); the runner is a `harness.pipeline.local_pipeline.Runner` value,
# kept as text so this module does not import the harness extra's dependencies.
BACKENDS: dict[str, tuple[EmulatorKind, str]] = {
    "embedded": (EmulatorKind.EMBEDDED, "inprocess"),
    "containers": (EmulatorKind.LOCALSTACK, "containers"),
    "ministack-container": (EmulatorKind.MINISTACK_CONTAINER, "inprocess"),
    "localstack": (EmulatorKind.LOCALSTACK, "inprocess"),
    "moto": (EmulatorKind.MOTO, "inprocess"),
}
DOCKER_BACKENDS = frozenset(
    name for name, (kind, run) in BACKENDS.items() if kind in CONTAINER_KINDS or run == "containers"
)
# One per emulator, components as threads: what the conformance suite compares.
CONFORMANCE_BACKENDS = ("embedded", "ministack-container", "localstack", "moto")


class EmulatorPool:
    """Emulators started on first use and kept for the session, one per kind."""

    def __init__(self) -> None:
        self._emulators: dict[EmulatorKind, Emulator] = {}

    def get(self, kind: EmulatorKind) -> Emulator:
        if kind not in self._emulators:
            emulator = new_emulator(kind)
            emulator.start()
            self._emulators[kind] = emulator
        return self._emulators[kind]

    def stop_all(self) -> None:
        while self._emulators:
            _, emulator = self._emulators.popitem()
            emulator.stop()

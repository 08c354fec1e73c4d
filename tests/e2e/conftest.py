"""Fixtures for the end-to-end reliability tests (their reports: `publish_report` in
tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from harness.emulators.ministack import MiniStack

DedicatedEmulator = Callable[..., MiniStack]


@pytest.fixture
def dedicated_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[DedicatedEmulator]:
    """`dedicated_emulator(AUTH="true", ...)`: a MiniStack of the test's own, with these
    settings, that every boto3 client of the test (and its subprocesses) reaches.

    For tests that restart the emulator or enforce policies, which the shared session
    emulator must not do.
    """
    started: list[MiniStack] = []

    def start(**settings: str) -> MiniStack:
        emulator = MiniStack(extra_env=settings)
        started.append(emulator)
        emulator.start()
        remove, assign = emulator.endpoint.changes(os.environ)
        for name in remove:
            monkeypatch.delenv(name)
        for name, value in assign.items():
            monkeypatch.setenv(name, value)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()

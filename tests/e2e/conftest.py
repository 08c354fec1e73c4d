"""Fixtures for the end-to-end reliability tests, and the report printed at the end.

Reliability reports are written to `$PYLON_REPORT_DIR` (default: `reports/` under
pytest's base temporary directory) and printed in the terminal summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.emulators.ministack import MiniStack
from harness.reliability.report import ReliabilityReport

REPORT_DIR_ENV_VAR = "PYLON_REPORT_DIR"
_REPORTS = pytest.StashKey[list[Path]]()

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


@pytest.fixture
def publish_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[ReliabilityReport], Path]:
    """Write a report (Markdown and JSON) and have it printed at the end of the run."""
    directory = Path(
        os.environ.get(REPORT_DIR_ENV_VAR) or tmp_path_factory.getbasetemp() / "reports"
    )

    def publish(report: ReliabilityReport) -> Path:
        path = report.write(directory)
        request.config.stash.setdefault(_REPORTS, []).append(path)
        return path

    return publish


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for path in config.stash.get(_REPORTS, []):
        terminalreporter.write_sep("=", f"reliability report: {path}")
        terminalreporter.write(path.read_text())

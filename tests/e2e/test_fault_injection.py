"""Zero loss under faults, measured: the scenario of `fault_scenario.py` at
PYLON_FAULT_MESSAGES inputs (default and minimum 2,000; `make soak` runs 10,000 with
memory checks). The report is written and printed at the end of the run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.reliability.report import ReliabilityReport
from tests.e2e.conftest import DedicatedEmulator
from tests.e2e.fault_scenario import assert_nothing_lost, deadline_seconds, run_scenario

N = max(2000, int(os.environ.get("PYLON_FAULT_MESSAGES", "2000")))


@pytest.mark.slow
@pytest.mark.timeout(deadline_seconds(N) + 120)
def test_no_message_is_lost_under_faults(
    dedicated_emulator: DedicatedEmulator,
    publish_report: Callable[[ReliabilityReport], Path],
) -> None:
    emulator = dedicated_emulator(AUTH="true", PERSIST_STATE="1")

    result = run_scenario(N, emulator, f"{N} inputs through relay -> finish under faults")

    publish_report(result.report)
    assert_nothing_lost(result)

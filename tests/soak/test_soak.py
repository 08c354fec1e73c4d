"""The soak: the fault scenario at PYLON_SOAK_MESSAGES inputs (default 10,000) with the
RSS of every component process and of the emulator sampled throughout. Fails on any loss
(as the fault test) and on any process whose memory grows by more than 10 % between the
first and the last quarter of its run. It runs with `make test` (about a minute and a
half on 2 cores); `make soak` runs it alone and keeps the report, its JSON and the chart
of the series in `soak-report/`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.reliability.memory import MAX_GROWTH, MemorySampler, PidOf
from harness.reliability.report import ReliabilityReport
from tests.e2e.conftest import DedicatedEmulator
from tests.e2e.fault_scenario import FaultRun, assert_nothing_lost, deadline_seconds, run_scenario

N = max(2000, int(os.environ.get("PYLON_SOAK_MESSAGES", "10000")))
CHART = "soak-memory.png"

pytestmark = [pytest.mark.soak, pytest.mark.slow]


def sampler_for(run: FaultRun) -> MemorySampler:
    """Every component (followed across restarts) and the emulator (across its restart)."""

    def component(name: str) -> PidOf:
        def pid() -> int | None:
            process = run.runner.processes.get(name)
            return process.pid if process is not None and process.poll() is None else None

        return pid

    processes = {name: component(name) for name in run.pipeline.resources.components}
    processes["emulator (MiniStack)"] = lambda: run.emulator.pid
    return MemorySampler(processes, interval_s=1.0)


@pytest.mark.timeout(deadline_seconds(N) + 300)
def test_soak_loses_nothing_and_memory_stays_flat(
    dedicated_emulator: DedicatedEmulator,
    publish_report: Callable[[ReliabilityReport], Path],
) -> None:
    emulator = dedicated_emulator(AUTH="true", PERSIST_STATE="1")

    result = run_scenario(N, emulator, f"soak: {N} inputs under faults", memory=sampler_for)

    assert result.sampler is not None
    report = dataclasses.replace(result.report, memory_chart=CHART)
    written = publish_report(report)
    result.sampler.draw(written.parent / CHART, f"RSS during the soak ({N} inputs, faults)")
    assert_nothing_lost(result)
    assert report.memory, "no process was sampled long enough to judge its memory"
    leaking = [m.describe() for m in report.memory if m.leaking]
    assert leaking == [], f"memory grew by more than {MAX_GROWTH:.0%}: {leaking}"

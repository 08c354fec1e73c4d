"""Smoke tests of the benchmark scripts: each runs with `--quick` and writes well-formed JSON.

No figure is checked against any number: timings belong to `make bench`, not to tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.machine import machine_info
from bench.results import render
from harness.emulators.base import Emulator

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIGURE_KEYS = {
    "name",
    "value",
    "unit",
    "baseline_name",
    "baseline",
    "ratio",
    "target",
    "target_kind",
    "target_bound",
    "meets_target",
    "note",
    "skipped",
}
# Benchmark -> (takes --endpoint, figure names every quick run must report).
EXPECTED: dict[str, tuple[bool, list[str]]] = {
    "throughput": (
        True,
        [
            "Pylon runForever, 1 process",
            "Pylon runForever, 2 processes",
            "consumer CPU per message, 1 process",
            "consumer CPU per message, 2 processes",
            "botocore CPU per message, Pylon's clients (no I/O)",
        ],
    ),
    "overhead": (
        False,
        [
            "queue path per message (runOnce, dataAsset)",
            "framework overhead per message",
            "  of which decode",
            "  of which lineage",
            "  of which logging",
            "  of which encode",
            "  of which the rest",
            "Pylon's required work as one flat loop, per message",
            "  Pylon's structure per message (the queue path minus the flat loop)",
            "Lambda handler per 10-record batch",
            "Lambda handler per 10-record batch",
            "Lambda handler per 10-record batch, minimal",
        ],
    ),
    "payloads": (
        True,
        [
            "200 KiB offload",
            "200 KiB retrieve",
            "200 KiB peak memory (offload or retrieve)",
            "300 KiB offload",
            "300 KiB retrieve",
            "300 KiB peak memory (offload or retrieve)",
        ],
    ),
    "startup": (
        False,
        [
            "embedded MiniStack: ready",
            "embedded MiniStack: ready + pipeline provisioned",
            "embedded MiniStack: memory when idle",
            "MiniStack in a container",
            "real LocalStack container (+ MiniStack beside it)",
        ],
    ),
    "memory": (
        False,
        [
            "component (runForever), idle",
            "component after relaying 50 messages",
            "embedded MiniStack (process tree), idle",
            "embedded MiniStack after 50 messages",
        ],
    ),
    "reload": (
        True,
        ["processes runner (pylon up --watch)", "in-process runner"],
    ),
    "ui": (
        True,
        [
            "queue page, 300 messages (server time)",
            "search over 300 messages (server time)",
            "pipeline, 10 inspector pages open",
            "pipeline, inspector running (no page)",
        ],
    ),
}


def run_module(module: str, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def quick_results(
    tmp_path_factory: pytest.TempPathFactory, pylon_emulator: Emulator
) -> dict[str, dict[str, Any]]:
    """Every benchmark, run once with --quick; its JSON by name."""
    directory = tmp_path_factory.mktemp("bench")
    results = {}
    for name, (takes_endpoint, _) in EXPECTED.items():
        path = directory / f"{name}.json"
        endpoint = ["--endpoint", pylon_emulator.endpoint_url] if takes_endpoint else []
        completed = run_module(f"bench.{name}", ["--quick", "--json", str(path), *endpoint])
        assert completed.returncode == 0, f"bench.{name} failed:\n{completed.stdout}\n{completed.stderr}"
        assert "figure" in completed.stdout, f"bench.{name} printed no table:\n{completed.stdout}"
        results[name] = json.loads(path.read_text())
    return results


@pytest.mark.parametrize("name", list(EXPECTED))
def test_quick_run_writes_every_expected_figure_as_well_formed_json(
    quick_results: dict[str, dict[str, Any]], name: str
) -> None:
    report = quick_results[name]

    assert report["schema"] == 1
    assert report["benchmark"] == name
    assert report["title"] and isinstance(report["notes"], list)
    assert report["parameters"]["quick"] is True
    assert isinstance(report["duration_s"], int | float)
    assert [figure["name"] for figure in report["figures"]] == EXPECTED[name][1]
    for figure in report["figures"]:
        assert set(figure) == FIGURE_KEYS, figure
        if figure["skipped"] is None:
            assert isinstance(figure["value"], int | float), figure
        else:
            assert figure["value"] is None and figure["skipped"].strip(), figure


def test_throughput_and_lambda_figures_carry_their_targets(
    quick_results: dict[str, dict[str, Any]],
) -> None:
    targets = {
        (report["benchmark"], figure["name"]): (figure["target_kind"], figure["target_bound"])
        for report in quick_results.values()
        for figure in report["figures"]
        if figure["target"] is not None
    }

    assert targets == {
        ("throughput", "Pylon runForever, 1 process"): ("ratio_at_least", 0.95),
        ("throughput", "Pylon runForever, 2 processes"): ("ratio_at_least", 0.95),
        ("overhead", "queue path per message (runOnce, dataAsset)"): ("ratio_at_most", 3.5),
        ("overhead", "Lambda handler per 10-record batch"): ("ratio_at_most", 0.8),
        ("startup", "embedded MiniStack: ready + pipeline provisioned"): ("value_at_most", 0.5),
        ("reload", "processes runner (pylon up --watch)"): ("value_at_most", 1.0),
        ("ui", "queue page, 300 messages (server time)"): ("value_at_most", 1.0),
        ("ui", "search over 300 messages (server time)"): ("value_at_most", 1.0),
        ("ui", "pipeline, 10 inspector pages open"): ("ratio_at_least", 0.95),
    }


def test_results_markdown_shows_every_benchmark_and_the_targets(
    quick_results: dict[str, dict[str, Any]],
) -> None:
    reports = list(quick_results.values())

    text = render(machine_info(), reports, "smoke test")

    assert text.startswith("# Benchmark results")
    assert "- Conditions: smoke test" in text
    assert "## Targets" in text
    for report in reports:
        assert f"## {report['title']}" in text
        assert f"`python -m bench.{report['benchmark']}`" in text
    assert "How it is measured" in text


def test_a_benchmark_that_cannot_measure_exits_non_zero_with_the_reason() -> None:
    completed = run_module("bench.payloads", ["--quick", "--endpoint", "http://127.0.0.1:9"])

    assert completed.returncode == 1
    assert "not healthy" in completed.stderr


def test_run_all_regenerates_results_in_the_given_directory(tmp_path: Path) -> None:
    completed = run_module(
        "bench.run_all", ["--quick", "--only", "overhead", "--output", str(tmp_path)]
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert [report["benchmark"] for report in latest["reports"]] == ["overhead"]
    assert set(latest["machine"]) >= {"date", "cpu", "logical_cpus", "versions", "commit"}
    assert "## Framework overhead" in (tmp_path / "RESULTS.md").read_text()


def test_a_partial_run_may_not_replace_the_recorded_results() -> None:
    recorded = PROJECT_ROOT / "bench" / "RESULTS.md"
    before = recorded.read_text() if recorded.exists() else None

    completed = run_module("bench.run_all", ["--quick", "--only", "overhead"])

    assert completed.returncode == 2
    assert "need --output" in completed.stderr
    assert (recorded.read_text() if recorded.exists() else None) == before


def test_overhead_writes_a_profile_of_the_queue_path(tmp_path: Path) -> None:
    profile = tmp_path / "queue-path.txt"

    completed = run_module("bench.overhead", ["--quick", "--profile", str(profile)])

    assert completed.returncode == 0, completed.stderr
    text = profile.read_text()
    assert text.startswith("# cProfile of bench.overhead's queue path")
    assert "Ordered by: cumulative time" in text and "Ordered by: internal time" in text
    assert "(runOnce)" in text and "(_process_batch)" in text

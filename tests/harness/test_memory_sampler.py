"""The soak's memory verdicts, as pure logic (synthetic series), and one real sample."""

from __future__ import annotations

import os
from pathlib import Path

from harness.reliability.memory import MemorySampler, Sample

MIB = 2**20


def series(pid: int, start: float, values_mib: list[float]) -> list[Sample]:
    return [Sample(start + i, pid, int(v * MIB)) for i, v in enumerate(values_mib)]


def sampler_with(**named: list[Sample]) -> MemorySampler:
    sampler = MemorySampler({})
    sampler.series = dict(named)
    return sampler


def test_steady_memory_passes_and_growth_over_ten_percent_is_a_leak() -> None:
    warm_up = [20.0] * 5  # start-up samples, left out
    flat = series(1, 0, warm_up + [50.0] * 40)
    leaking = series(2, 0, warm_up + [50.0 + i for i in range(40)])

    verdicts = {v.name: v for v in sampler_with(flat=flat, leaking=leaking).growth()}

    assert not verdicts["flat"].leaking and verdicts["flat"].growth == 0
    assert verdicts["leaking"].leaking
    assert "leaking: 54.5 MiB -> 84.5 MiB (+55.0%" in verdicts["leaking"].describe()


def test_a_restarted_process_is_judged_on_its_longest_run_not_across_the_restart() -> None:
    before = series(1, 0, [80.0] * 10)  # killed at 10 s
    after = series(2, 10, [20.0] * 5 + [40.0] * 40)  # a fresh process: smaller, then flat

    (verdict,) = sampler_with(component=before + after).growth()

    assert verdict.first_quarter_mib == verdict.last_quarter_mib == 40.0
    assert not verdict.leaking


def test_a_life_too_short_to_judge_gives_no_verdict() -> None:
    assert sampler_with(brief=series(1, 0, [10.0] * 7)).growth() == []


def test_the_chart_is_a_png_and_the_series_go_to_the_report(tmp_path: Path) -> None:
    sampler = MemorySampler({"this test": os.getpid})
    sampler.sample()
    sampler.sample()

    path = sampler.draw(tmp_path / "memory.png", "RSS")

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (points,) = sampler.to_dict().values()
    assert len(points) == 2 and points[0][1] > 1 and points[0][2] == os.getpid()

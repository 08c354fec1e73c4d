"""Memory over a long run: the RSS of each component process and of the emulator, sampled
on a thread, judged for growth between the first and the last quarter, drawn as a chart.

A leak shows as memory that keeps growing while the work stays the same; a process
restarted mid-run (a fault) starts small again, so each process is judged from its own
samples, and the first seconds after a (re)start (imports, first clients) are left out.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from harness.lifecycle import Periodic

# A process's first seconds are its start-up, not its steady state.
WARM_UP_SECONDS = 5.0
# Growth above this between the first and the last quarter counts as a leak.
MAX_GROWTH = 0.10

PidOf = Callable[[], int | None]


@dataclass(frozen=True)
class Sample:
    at_seconds: float
    pid: int
    rss_bytes: int


@dataclass(frozen=True)
class MemoryGrowth:
    """One process's verdict: mean RSS over the first and the last quarter of its run."""

    name: str
    first_quarter_mib: float
    last_quarter_mib: float
    samples: int

    @property
    def growth(self) -> float:
        return self.last_quarter_mib / self.first_quarter_mib - 1 if self.first_quarter_mib else 0

    @property
    def leaking(self) -> bool:
        return self.growth > MAX_GROWTH

    def describe(self) -> str:
        return (
            f"{self.name}: {self.first_quarter_mib:.1f} MiB -> {self.last_quarter_mib:.1f} MiB "
            f"({self.growth:+.1%}, {self.samples} samples)"
        )


class MemorySampler(Periodic):
    """Samples the RSS (with child processes) of each named process every `interval_s`.

    `processes` maps a name to how to find its current pid (None while it is down), so a
    restarted component or emulator is followed to its new process.
    """

    thread_name = "memory-sampler"

    def __init__(self, processes: Mapping[str, PidOf], interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        self.processes = processes
        self.series: dict[str, list[Sample]] = {}
        self._started = time.monotonic()

    def start(self) -> None:
        self._started = time.monotonic()
        super().start()

    def tick(self) -> None:
        self.sample()

    def sample(self) -> None:
        now = round(time.monotonic() - self._started, 2)
        for name, pid_of in self.processes.items():
            pid = pid_of()
            rss = _rss(pid) if pid is not None else None
            if pid is not None and rss is not None:
                self.series.setdefault(name, []).append(Sample(now, pid, rss))

    def growth(self) -> list[MemoryGrowth]:
        """Per process, the steady samples of its longest-lived incarnation, quartered."""
        verdicts = []
        for name, samples in self.series.items():
            steady = _steady(_longest_incarnation(samples))
            quarter = max(1, len(steady) // 4)
            if len(steady) < 4:
                continue  # too short a life to judge
            first = statistics.mean(s.rss_bytes for s in steady[:quarter]) / 2**20
            last = statistics.mean(s.rss_bytes for s in steady[-quarter:]) / 2**20
            verdicts.append(MemoryGrowth(name, round(first, 1), round(last, 1), len(steady)))
        return verdicts

    def to_dict(self) -> dict[str, list[list[float]]]:
        """`{name: [[seconds, MiB, pid], ...]}` for the report's JSON."""
        return {
            name: [[s.at_seconds, round(s.rss_bytes / 2**20, 2), s.pid] for s in samples]
            for name, samples in self.series.items()
        }

    def draw(self, path: Path, title: str) -> Path:
        """A small PNG: RSS in MiB over time, one line per process."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7, 3.2), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        for index, (name, samples) in enumerate(sorted(self.series.items())):
            colour = f"C{index}"
            # One line per process: a restart is a gap, not a plunge to zero.
            for number, run in enumerate(_incarnations(samples)):
                axes.plot(
                    [s.at_seconds for s in run],
                    [s.rss_bytes / 2**20 for s in run],
                    label=name if number == 0 else None,
                    color=colour,
                    linewidth=1.2,
                )
        axes.set_xlabel("seconds")
        axes.set_ylabel("RSS (MiB)")
        axes.set_title(title, fontsize=10)
        axes.set_ylim(bottom=0)
        axes.legend(fontsize=8, loc="lower right")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        return path


def _rss(pid: int) -> int | None:
    """The RSS of the process and its children, or None if it is gone (or ending)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None  # ended, not yet reaped: no memory of its own any more
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return int(total)
    except psutil.Error:
        return None


def _incarnations(samples: list[Sample]) -> list[list[Sample]]:
    """The samples split by process: a restart starts a new one."""
    by_pid: dict[int, list[Sample]] = {}
    for sample in samples:
        by_pid.setdefault(sample.pid, []).append(sample)
    return list(by_pid.values())


def _longest_incarnation(samples: list[Sample]) -> list[Sample]:
    """The samples of the pid that was sampled longest (a restart starts a new one)."""
    return max(_incarnations(samples), key=lambda run: run[-1].at_seconds - run[0].at_seconds)


def _steady(samples: list[Sample]) -> list[Sample]:
    if not samples:
        return []
    start = samples[0].at_seconds
    return [s for s in samples if s.at_seconds - start >= WARM_UP_SECONDS]

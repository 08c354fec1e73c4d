"""Memory: resident size of an idle component process and of the embedded emulator.

- The component is `bench.throughput_worker`'s relay, a PipelineComponent in
  `runForever`, long-polling an empty queue; measured idle, then again after it relayed
  `--messages` messages. Its baseline is a process holding just boto3 and one SQS client.
- The emulator is the embedded MiniStack, the sum of its process tree, idle and after
  the same traffic; its baseline is the bare Python interpreter.

RSS is sampled until it settles (three samples within 2 %), so a figure is not taken
while a process is still importing or freeing.

    python -m bench.memory [--messages 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import cli
from bench.errors import BenchmarkError
from bench.processes import BenchProcess, stop_all
from bench.report import Figure, Report
from bench.throughput import Settings, ThroughputRun, check_clean_exit
from harness.emulators.ministack import MiniStack
from harness.emulators.selection import apply_to_environment
from harness.endpoints import AwsEndpoint

NAME = "memory"
MIB = 1024 * 1024
_READY_TIMEOUT_S = 60.0
_SAMPLE_INTERVAL_S = 0.25
_SETTLE_TIMEOUT_S = 15.0
_MIN_IDLE_S = 1.5  # long enough for a runForever loop to have polled the empty queue


def rss_bytes(pid: int, with_children: bool = False) -> int:
    """Resident set size of `pid` (plus all its descendants when asked)."""
    process = psutil.Process(pid)
    processes = [process, *process.children(recursive=True)] if with_children else [process]
    total = 0
    for member in processes:
        with contextlib.suppress(psutil.NoSuchProcess):  # a child that exited meanwhile
            total += member.memory_info().rss
    return total


def settled_rss(pid: int, with_children: bool = False) -> int:
    """RSS once three successive samples agree within 2 % (or the last one at the deadline)."""
    started = time.monotonic()
    samples: list[int] = []
    while time.monotonic() - started < _SETTLE_TIMEOUT_S:
        samples.append(rss_bytes(pid, with_children))
        recent = samples[-3:]
        idle_long_enough = time.monotonic() - started >= _MIN_IDLE_S
        if idle_long_enough and len(recent) == 3 and max(recent) <= min(recent) * 1.02:
            return recent[-1]
        time.sleep(_SAMPLE_INTERVAL_S)
    return samples[-1]


@contextlib.contextmanager
def started(process: BenchProcess) -> Iterator[BenchProcess]:
    try:
        process.wait_ready(_READY_TIMEOUT_S)
        yield process
    finally:
        process.stop()


def baseline_rss(kind: str, endpoint: AwsEndpoint, log_dir: Path) -> int:
    env = endpoint.overlay(os.environ)
    process = BenchProcess("bench.idle_process", [kind], env, log_dir / f"baseline-{kind}.log")
    with started(process):
        return settled_rss(process.pid)


@dataclass(frozen=True)
class Sizes:
    component_idle: int
    component_loaded: int
    emulator_idle: int
    emulator_loaded: int
    boto3_baseline: int
    interpreter_baseline: int


def measure_sizes(messages: int, log_dir: Path) -> Sizes:
    with MiniStack() as emulator:
        pid = emulator.pid
        if pid is None:
            raise BenchmarkError("MiniStack reports no process id although it started")
        apply_to_environment(emulator.endpoint)
        emulator_idle = settled_rss(pid, with_children=True)
        run = ThroughputRun(emulator.endpoint, Settings(messages, (1,), 1, 1024), log_dir)
        with run.resources() as (queue_url, topic_arn):
            component = run.spawn("pylon", queue_url, topic_arn, 0)
            with started(component):
                component.go()
                component_idle = settled_rss(component.pid)
                run.preload(queue_url)
                run.wait_drained(queue_url, [component])
                component_loaded = settled_rss(component.pid)
                emulator_loaded = settled_rss(pid, with_children=True)
                check_clean_exit([component], stop_all([component]))
        return Sizes(
            component_idle,
            component_loaded,
            emulator_idle,
            emulator_loaded,
            baseline_rss("boto3", emulator.endpoint, log_dir),
            baseline_rss("bare", emulator.endpoint, log_dir),
        )


def measure(options: argparse.Namespace) -> Report:
    messages = 50 if options.quick else options.messages
    with tempfile.TemporaryDirectory(prefix="pylon-bench-") as log_dir:
        sizes = measure_sizes(messages, Path(log_dir))
    report = Report(
        NAME,
        "Memory: resident size (RSS) of a runForever component and of the embedded emulator",
        parameters={"messages": messages, "bytes": vars(sizes)},
    )
    boto3_name, interpreter_name = "python + boto3 SQS client", "bare python interpreter"
    rows = (
        ("component (runForever), idle", sizes.component_idle, boto3_name, sizes.boto3_baseline),
        (
            f"component after relaying {messages} messages",
            sizes.component_loaded,
            boto3_name,
            sizes.boto3_baseline,
        ),
        (
            "embedded MiniStack (process tree), idle",
            sizes.emulator_idle,
            interpreter_name,
            sizes.interpreter_baseline,
        ),
        (
            f"embedded MiniStack after {messages} messages",
            sizes.emulator_loaded,
            interpreter_name,
            sizes.interpreter_baseline,
        ),
    )
    for name, value, baseline_name, baseline in rows:
        report.add(Figure(name, value / MIB, "MiB", baseline_name, baseline / MIB))
    report.notes.append(
        "RSS from psutil once it settled; the emulator's is the sum over its process tree "
        "(shared pages counted once per process)."
    )
    return report


def parser() -> argparse.ArgumentParser:
    arguments = cli.parser(NAME, "Resident size of an idle component process and of the emulator.")
    arguments.add_argument(
        "--messages", type=int, default=2000, help="relayed before the loaded figures"
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())

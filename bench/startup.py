"""Harness start-up: emulator ready, then the example pipeline provisioned, per backend;
and the emulator's memory once idle.

For each backend, the clock starts before `start()` and stops when `start()` returned
(the health endpoint answers) and when `provision()` of examples/docs_pipeline has
created every queue, topic, subscription, bucket and table. Backends, each labelled for
what it is:

- `embedded`: the pinned MiniStack subprocess (installed beforehand: a one-time step);
- `ministack-container`: the same MiniStack in a container (`pylon image build --emulator`);
- `localstack`: real LocalStack in a container (`pylon image build --localstack`), with
  the embedded MiniStack beside it for DynamoDB and Lambda (both are started and timed).

The container backends are measured only where a Docker engine answers and the image is
there; otherwise their rows say why. Idle memory: the RSS of the MiniStack process tree,
or the container's memory use as the engine reports it (plus MiniStack's for LocalStack).

    python -m bench.startup [--backends embedded ministack-container localstack] [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import cli
from bench.errors import BenchmarkError
from bench.memory import settled_rss
from bench.report import Figure, Report, Target, TargetKind
from harness.emulators.base import Emulator
from harness.emulators.ministack import MiniStack, install
from harness.emulators.selection import apply_to_environment
from harness.errors import EmulatorError
from harness.provision import provision
from harness.spec import load_spec
from pylon.aws.clients import forget_models

NAME = "startup"
TARGET = Target(TargetKind.VALUE_AT_MOST, 0.5)
EXAMPLE_SPEC = (
    Path(__file__).resolve().parent.parent / "examples" / "docs_pipeline" / "pipeline.yaml"
)


class BackendUnavailableError(BenchmarkError):
    """This machine cannot run the backend (no Docker engine, module not installed)."""


@dataclass(frozen=True)
class Backend:
    name: str
    label: str
    create: Callable[[], Emulator]
    warm_up: bool  # one unmeasured start first (a container image may need pulling)


@dataclass
class Timings:
    ready: list[float] = field(default_factory=list)
    provisioned: list[float] = field(default_factory=list)
    idle_bytes: list[int] = field(default_factory=list)


def embedded() -> Emulator:
    return MiniStack()


def _container(module_name: str, class_name: str) -> Emulator:
    """A container backend, imported only when asked for (it needs the docker extra)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(f"{module_name} is not importable ({exc})") from None
    from harness.containers.engine import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        raise BackendUnavailableError(reason)
    emulator: Emulator = getattr(module, class_name)()
    return emulator


def ministack_container() -> Emulator:
    return _container("harness.emulators.ministack_container", "MiniStackContainer")


def localstack() -> Emulator:
    return _container("harness.emulators.localstack", "LocalStackEmulator")


BACKENDS = {
    "embedded": Backend("embedded", "embedded MiniStack", embedded, warm_up=False),
    "ministack-container": Backend(
        "ministack-container", "MiniStack in a container", ministack_container, warm_up=True
    ),
    "localstack": Backend(
        "localstack",
        "real LocalStack container (+ MiniStack beside it)",
        localstack,
        warm_up=True,
    ),
}


def idle_memory(emulator: Emulator) -> int:
    """Bytes the emulator holds once idle: process tree RSS, or the container's usage."""
    total = 0
    container_id = getattr(emulator, "container_id", None)
    if container_id:
        from harness.containers import engine

        client = engine.client()
        try:
            stats = client.containers.get(container_id).stats(stream=False)
            total += int(stats.get("memory_stats", {}).get("usage", 0))
        finally:
            client.close()
    for process in _processes(emulator):
        total += settled_rss(process)
    return total


def _processes(emulator: Emulator) -> list[int]:
    """The MiniStack processes behind an emulator (itself, or the one beside LocalStack)."""
    candidates = [emulator, getattr(emulator, "_companion", None)]
    return [pid for c in candidates if c is not None and (pid := getattr(c, "pid", None))]


def time_once(backend: Backend, timings: Timings) -> None:
    spec = load_spec(EXAMPLE_SPEC)
    forget_models()  # each start cold, as a fresh `pylon up` is: no client models parsed
    emulator = backend.create()
    started = time.perf_counter()
    try:
        emulator.start()
        timings.ready.append(time.perf_counter() - started)
        apply_to_environment(emulator.endpoint)
        provision(spec)
        timings.provisioned.append(time.perf_counter() - started)
        timings.idle_bytes.append(idle_memory(emulator))
    finally:
        emulator.stop()


def time_backend(backend: Backend, repeat: int) -> Timings:
    if backend.warm_up:
        try:
            time_once(backend, Timings())
        except EmulatorError as exc:
            # This first, unmeasured start is the one that fetches the image: an engine
            # that answers but has no image and no registry cannot measure anything.
            raise BackendUnavailableError(str(exc)) from None
    timings = Timings()
    for _ in range(repeat):
        time_once(backend, timings)
    return timings


def measure(options: argparse.Namespace) -> Report:
    repeat = 1 if options.quick else options.repeat
    install()  # a one-time step, not part of any start
    measured: dict[str, Timings] = {}
    skipped: dict[str, str] = {}
    for name in options.backends:
        backend = BACKENDS[name]
        try:
            if options.quick and backend.warm_up:
                backend.create()  # checks the backend is usable, starts nothing
                raise BackendUnavailableError(
                    "not started with --quick (a container start takes tens of seconds)"
                )
            measured[name] = time_backend(backend, repeat)
        except BackendUnavailableError as exc:
            skipped[name] = str(exc)
    return _report(measured, skipped, repeat)


def _report(measured: dict[str, Timings], skipped: dict[str, str], repeat: int) -> Report:
    report = Report(
        NAME,
        "Harness start-up: emulator ready + examples/docs_pipeline provisioned; idle memory",
        parameters={
            "repeat": repeat,
            "spec": str(EXAMPLE_SPEC.relative_to(EXAMPLE_SPEC.parents[2])),
            "samples_s": {name: vars(timings) for name, timings in measured.items()},
            "skipped": skipped,
        },
    )
    # Each backend is read against real LocalStack, where it was measured.
    localstack_timings = measured.get("localstack")
    baseline_name = BACKENDS["localstack"].label if localstack_timings else ""
    for name, timings in measured.items():
        label = BACKENDS[name].label
        against = None if name == "localstack" else localstack_timings
        for phase, target in (("ready", None), ("provisioned", TARGET)):
            report.add(
                Figure(
                    f"{label}: {'ready' if phase == 'ready' else 'ready + pipeline provisioned'}",
                    statistics.median(getattr(timings, phase)),
                    "s",
                    baseline_name if against else "",
                    statistics.median(getattr(against, phase)) if against else None,
                    target if name == "embedded" else None,
                )
            )
        report.add(
            Figure(
                f"{label}: memory when idle",
                statistics.median(timings.idle_bytes) / 2**20,
                "MiB",
                baseline_name if against else "",
                statistics.median(against.idle_bytes) / 2**20 if against else None,
            )
        )
    for name, reason in skipped.items():
        report.add(Figure(BACKENDS[name].label, None, "s", skipped=reason))
    report.notes.append(
        f"Median of {repeat} start(s) per backend; each start ends with stop(), so none reuses "
        "a warm emulator. The pinned MiniStack is installed before timing (a one-time step)."
    )
    return report


def parser() -> argparse.ArgumentParser:
    arguments = cli.parser(NAME, "Harness start-up: emulator ready + example pipeline provisioned.")
    arguments.add_argument(
        "--backends", nargs="+", choices=sorted(BACKENDS), default=list(BACKENDS)
    )
    arguments.add_argument(
        "--repeat", type=int, default=5, help="starts per backend; the median is shown"
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Harness start-up: emulator ready, then the example pipeline provisioned, per backend.

For each backend, the clock starts before `start()` and stops when `start()` returned
(the health endpoint answers) and when `provision()` of examples/docs_pipeline has
created every queue, topic, subscription, bucket and table. Backends:

- `embedded`: the pinned MiniStack subprocess (installed beforehand: a one-time step);
- `localstack`: the LocalStack container (`harness.emulators.localstack`), measured only
  where that module imports and a Docker engine answers; otherwise its row says why it
  was skipped. One unmeasured start first pulls the image if it is missing.

    python -m bench.startup [--backends embedded localstack] [--repeat 5] [--json PATH]
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
from bench.report import Figure, Report, Target, TargetKind
from harness.emulators.base import Emulator
from harness.emulators.ministack import MiniStack, install
from harness.emulators.selection import apply_to_environment
from harness.errors import EmulatorError
from harness.provision import provision
from harness.spec import load_spec

NAME = "startup"
TARGET = Target(TargetKind.VALUE_AT_MOST, 1.0)
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


def embedded() -> Emulator:
    return MiniStack()


def localstack() -> Emulator:
    """The container backend, imported only when asked for (it needs the docker extra)."""
    try:
        module = importlib.import_module("harness.emulators.localstack")
    except ImportError as exc:
        raise BackendUnavailableError(
            f"harness.emulators.localstack is not importable ({exc})"
        ) from None
    from harness.containers.engine import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        raise BackendUnavailableError(reason)
    emulator: Emulator = module.LocalStackEmulator()
    return emulator


BACKENDS = {
    "embedded": Backend("embedded", "embedded MiniStack", embedded, warm_up=False),
    "localstack": Backend("localstack", "LocalStack container", localstack, warm_up=True),
}


def time_once(backend: Backend, timings: Timings) -> None:
    spec = load_spec(EXAMPLE_SPEC)
    emulator = backend.create()
    started = time.perf_counter()
    try:
        emulator.start()
        timings.ready.append(time.perf_counter() - started)
        apply_to_environment(emulator.endpoint)
        provision(spec)
        timings.provisioned.append(time.perf_counter() - started)
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
        "Harness start-up: emulator ready + examples/docs_pipeline provisioned",
        parameters={
            "repeat": repeat,
            "spec": str(EXAMPLE_SPEC.relative_to(EXAMPLE_SPEC.parents[2])),
            "samples_s": {name: vars(timings) for name, timings in measured.items()},
            "skipped": skipped,
        },
    )
    container = measured.get("localstack")
    baseline_name = BACKENDS["localstack"].label if container else ""
    for name, timings in measured.items():
        if name == "localstack":
            continue
        label = BACKENDS[name].label
        for phase, target in (("ready", None), ("provisioned", TARGET)):
            report.add(
                Figure(
                    f"{label}: {'ready' if phase == 'ready' else 'ready + pipeline provisioned'}",
                    statistics.median(getattr(timings, phase)),
                    "s",
                    baseline_name,
                    statistics.median(getattr(container, phase)) if container else None,
                    target,
                )
            )
    if container and "embedded" not in measured:
        for phase in ("ready", "provisioned"):
            report.add(
                Figure(
                    f"LocalStack container: {phase}",
                    statistics.median(getattr(container, phase)),
                    "s",
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
        "--backends", nargs="+", choices=sorted(BACKENDS), default=["embedded", "localstack"]
    )
    arguments.add_argument(
        "--repeat", type=int, default=5, help="starts per backend; the median is shown"
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())

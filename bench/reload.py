"""Hot reload (`pylon up --watch`): from saving a component's file to the first message
handled by the new code.

A two-stage pipeline runs under the reloader while messages arrive steadily (one every
20 ms); the first stage stamps each output with its code version and the moment it
handled the message. Each save writes a new version; the figure is the time from the
save to the earliest output stamped with it, median over the saves, for the processes
runner (what `pylon up --watch` uses) and the in-process runner. Baseline, in the same
run: a component process started from nothing to its first message handled (the floor
a restart cannot go below).

    python -m bench.reload [--saves 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from bench import cli
from bench.emulator import emulator_endpoint
from bench.report import Figure, Report, Target, TargetKind
from harness.endpoints import AwsEndpoint
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.run.processes import ProcessRunner
from harness.spec import load_spec
from harness.testing.waiting import wait_until
from harness.watch.health import QuietRetries
from harness.watch.reloader import Reloader
from pylon import BaseMessage, ObjectType

NAME = "reload"
TARGET = Target(TargetKind.VALUE_AT_MOST, 1.0)
_STREAM_SECONDS = 0.02

STAGE = """import time

import pylon

VERSION = "{version}"


@pylon.PipelineComponent
def stamp(message, config):
    message.body = f"{{VERSION}} {{time.time()}}"
    return pylon.result([message])
"""


def _project(root: Path) -> tuple[str, Path]:
    package = f"reload_{uuid.uuid4().hex[:8]}"
    (root / package).mkdir()
    (root / package / "__init__.py").write_text("")
    stage = root / package / "stage.py"
    stage.write_text(STAGE.format(version="v0"))
    return package, stage


def _spec(package: str, root: Path) -> Path:
    path = root / "pipeline.yaml"
    path.write_text(
        f"name: reload-{package[-8:]}\ntopics: [words]\ncomponents:\n"
        f"  stamp:\n    type: pipeline\n    entrypoint: {package}.stage:stamp\n"
        "    subscribe: [words]\n    output_topic: stamped\n"
    )
    return path


class Stream:
    """One message every 20 ms on the pipeline's input topic, until stopped."""

    def __init__(self, pipeline: LocalPipeline) -> None:
        self._pipeline = pipeline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(_STREAM_SECONDS):
            self._pipeline.publish(
                "words", BaseMessage(body="x", objectType=ObjectType.RAW_CONTENT)
            )

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _first_handled(pipeline: LocalPipeline, version: str) -> float:
    """When the earliest output stamped `version` was handled (its own clock)."""
    recorder = pipeline.recorder("stamped")
    found = wait_until(
        lambda: [m for m in recorder.poll() + recorder.messages if str(m.body).startswith(f"{version} ")],
        30, interval_s=0.1, what=f"an output of {version}",
    )  # fmt: skip
    return min(float(str(m.body).split(" ")[1]) for m in found)


def save_to_handled(endpoint: AwsEndpoint, run: Runner, saves: int) -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        package, stage = _project(root)
        spec_path = _spec(package, root)
        pipeline = LocalPipeline(load_spec(spec_path), endpoint, run,
                                 project_root=root, sink=lambda name, line: None)  # fmt: skip
        pipeline.start()
        try:
            reloader = Reloader(
                pipeline, spec_path, QuietRetries(lambda n, line: None), lambda s: None
            )
            stop = threading.Event()
            timings: list[float] = []

            def scenario() -> None:
                reloader.ready.wait(30)
                with Stream(pipeline):
                    _first_handled(pipeline, "v0")
                    for number in range(1, saves + 1):
                        saved = time.time()
                        stage.write_text(STAGE.format(version=f"v{number}"))
                        timings.append(_first_handled(pipeline, f"v{number}") - saved)
                stop.set()

            thread = threading.Thread(target=scenario, daemon=True)
            thread.start()
            reloader.run(stop)
            thread.join(60)
            return timings
        finally:
            pipeline.stop()
            pipeline.teardown()


def cold_start(endpoint: AwsEndpoint, repeat: int) -> list[float]:
    """A component process started from nothing to its first message handled."""
    timings = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            package, _ = _project(root)
            spec_path = _spec(package, root)
            pipeline = LocalPipeline(load_spec(spec_path), endpoint, Runner.NONE, project_root=root)  # fmt: skip
            pipeline.start()
            try:
                pipeline.publish("words", BaseMessage(body="x", objectType=ObjectType.RAW_CONTENT))
                component = pipeline.resources.components["stamp"]
                runner = ProcessRunner([component], endpoint, lambda name, line: None, root)
                started = time.time()
                runner.start()
                try:
                    timings.append(_first_handled(pipeline, "v0") - started)
                finally:
                    runner.stop()
            finally:
                pipeline.stop()
                pipeline.teardown()
    return timings


def measure(options: argparse.Namespace) -> Report:
    saves = 2 if options.quick else options.saves
    with emulator_endpoint(options.endpoint) as endpoint:
        processes = save_to_handled(endpoint, Runner.PROCESSES, saves)
        threads = save_to_handled(endpoint, Runner.IN_PROCESS, saves)
        baseline = cold_start(endpoint, saves)
    report = Report(
        NAME,
        "Hot reload: save -> first message handled by the new code",
        parameters={
            "saves": saves,
            "samples_s": {"processes": processes, "threads": threads, "cold_start": baseline},
        },
    )
    base = statistics.median(baseline)
    base_name = "a component process started from nothing"
    report.add(Figure("processes runner (pylon up --watch)", statistics.median(processes), "s",
                      base_name, base, TARGET))  # fmt: skip
    report.add(Figure("in-process runner", statistics.median(threads), "s", base_name, base))
    report.notes.append(
        f"Median over {saves} saves; messages arrive every {_STREAM_SECONDS * 1000:.0f} ms, so a "
        "figure includes up to that much waiting for the next message. The new process starts "
        "before the old one finishes its message: the restart costs the new code's start-up, "
        "the watcher's debounce (50 ms) and the first receive."
    )
    return report


def parser() -> argparse.ArgumentParser:
    arguments = cli.parser(NAME, "Hot reload: save -> first message handled by the new code.")
    cli.add_endpoint_option(arguments)
    arguments.add_argument("--saves", type=int, default=5, help="saves measured per runner")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())

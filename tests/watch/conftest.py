"""A small project on disk whose components the tests edit while it runs under watch.

`project.write_stage(version)` rewrites the first stage's module; its outputs carry the
version (`v2:HELLO`), so a test sees which code handled a message. The package name is
unique per test: in-process runs import it into the test process.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.endpoints import AwsEndpoint
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.spec import load_spec
from harness.watch.health import QuietRetries
from harness.watch.reloader import Reloader

STAGE = '''"""The first stage (rewritten by the test)."""
import pylon

from {package}.shared import label

VERSION = "{version}"


@pylon.PipelineComponent
def shout(message, config):
    message.body = label(VERSION, str(message.body).upper())
    return pylon.result([message])
'''
SHARED = """def label(version, text):
    return f"{version}:{text}"
"""
SINK = """import pylon


@pylon.SinkComponent
def keep(message, config):
    print("kept", message.body, message.ingestionId, flush=True)
"""


@dataclass
class Project:
    root: Path
    package: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def spec_path(self) -> Path:
        return self.root / "pipeline.yaml"

    @property
    def stage_path(self) -> Path:
        return self.root / self.package / "stage.py"

    def write_stage(self, version: str, broken: bool = False) -> None:
        text = STAGE.format(package=self.package, version=version)
        self.stage_path.write_text(text + ("\ndef broken(:\n" if broken else ""))

    def spec(self, **overrides: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": f"w{self.package[-6:]}",
            "topics": ["words"],
            "components": {
                "shout": {
                    "type": "pipeline",
                    "entrypoint": f"{self.package}.stage:shout",
                    "subscribe": ["words"],
                    "output_topic": "shouted",
                    "env": {"IMAGE_NAME": "shouter"},
                },
                "keep": {
                    "type": "sink",
                    "entrypoint": f"{self.package}.sink:keep",
                    "subscribe": ["shouted"],
                },
            },
        }
        spec.update(overrides)
        return spec

    def write_spec(self, spec: dict[str, Any]) -> None:
        self.spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))

    def sink(self, name: str, line: str) -> None:
        with self.lock:
            self.lines.append((name, line))

    def seen(self, name: str, text: str) -> int:
        with self.lock:
            return sum(1 for n, line in self.lines if n == name and text in line)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    package = f"wp_{uuid.uuid4().hex[:8]}"
    tmp_path.chmod(0o755)  # the containers runner mounts it for a non-root user
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "shared.py").write_text(SHARED)
    (tmp_path / package / "sink.py").write_text(SINK)
    created = Project(tmp_path, package)
    created.write_stage("v1")
    created.write_spec(created.spec())
    return created


@dataclass
class Watching:
    pipeline: LocalPipeline
    reloader: Reloader
    said: list[str]

    def run_while(self, scenario: Callable[[], None]) -> None:
        """Run the reloader in this thread (it starts processes) while `scenario` runs on
        another; the scenario's failure is the test's."""
        stop = threading.Event()
        failure: list[BaseException] = []

        def play() -> None:
            try:
                if not self.reloader.ready.wait(30):
                    raise TimeoutError("the reloader did not start watching within 30 s")
                scenario()
            except BaseException as error:  # re-raised below, in the test's thread
                failure.append(error)
            finally:
                stop.set()

        thread = threading.Thread(target=play, daemon=True)
        thread.start()
        self.reloader.run(stop)
        thread.join(30)
        if failure:
            raise failure[0]


StartWatching = Callable[..., Watching]


@pytest.fixture
def start_watching(aws_env: AwsEndpoint, project: Project) -> Iterator[StartWatching]:
    started: list[LocalPipeline] = []

    def start(run: Runner = Runner.PROCESSES, prune: bool = False) -> Watching:
        output = QuietRetries(project.sink)
        pipeline = LocalPipeline(
            load_spec(project.spec_path), aws_env, run, sink=output,
            project_root=project.root, prefix=f"t{uuid.uuid4().hex[:5]}-",
        )  # fmt: skip
        started.append(pipeline)
        pipeline.start()
        said: list[str] = []
        reloader = Reloader(pipeline, project.spec_path, output, said.append, prune=prune)
        return Watching(pipeline, reloader, said)

    yield start
    for pipeline in started:
        pipeline.stop()
        pipeline.teardown()

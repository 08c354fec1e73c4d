"""Pytest fixtures for code that talks to AWS: an emulator, its environment, a session.

Loaded automatically through the `pytest11` entry point. This module only wires
fixtures and options; everything it does is callable without pytest from
`harness.emulators` and `harness.endpoints`.

    def test_queue_is_created(boto_session):
        sqs = boto_session.client("sqs")
        sqs.create_queue(QueueName="q")
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from harness.emulators.base import Emulator
from harness.emulators.external import ExternalEmulator
from harness.emulators.kinds import EMULATOR_ENV_VAR, EmulatorKind, emulator_kind, new_emulator
from harness.endpoints import AwsEndpoint, require_loopback
from harness.testing.backends import (
    BACKENDS,
    CONFORMANCE_BACKENDS,
    DOCKER_BACKENDS,
    Backend,
    EmulatorPool,
)

if TYPE_CHECKING:
    # Imported lazily below: they need the [harness] extra, and this plugin is loaded by
    # every pytest run where the runtime alone is installed.
    from harness.pipeline.local_pipeline import LocalPipeline
    from harness.spec import PipelineSpec
    from harness.testing.recorder import TopicRecorder

ENDPOINT_ENV_VAR = "PYLON_TEST_ENDPOINT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pylon", "Pylon emulated AWS")
    group.addoption(
        "--pylon-endpoint",
        metavar="URL",
        default=None,
        help=f"use this running LocalStack-compatible endpoint instead of starting "
        f"MiniStack (also ${ENDPOINT_ENV_VAR})",
    )
    group.addoption(
        "--pylon-emulator",
        choices=[kind.value for kind in EmulatorKind],
        default=None,
        help=f"emulator to start when no endpoint is given: embedded MiniStack (default) or "
        f"a LocalStack container (localstack; needs Docker) (also ${EMULATOR_ENV_VAR})",
    )
    group.addoption(
        "--pylon-run",
        choices=["inprocess", "processes", "containers", "none"],
        default="inprocess",
        help="how pylon_pipeline runs components: threads (inprocess, default), processes, "
        "containers of the Pylon base image (needs Docker), or none",
    )
    group.addoption(
        "--pylon-allow-remote",
        action="store_true",
        default=False,
        help="allow --pylon-endpoint to be a host other than this machine",
    )


def _configured_kind(config: pytest.Config) -> EmulatorKind:
    return emulator_kind(config.getoption("pylon_emulator"), os.environ)


def _configured_emulator(config: pytest.Config) -> Emulator:
    """The emulator the options ask for: an external endpoint, else a new one of that kind."""
    endpoint_url = config.getoption("pylon_endpoint") or os.environ.get(ENDPOINT_ENV_VAR)
    if not endpoint_url:
        return new_emulator(_configured_kind(config))
    if not config.getoption("pylon_allow_remote"):
        require_loopback(endpoint_url)
    return ExternalEmulator(endpoint_url)


@pytest.fixture(scope="session")
def pylon_emulator(pytestconfig: pytest.Config) -> Iterator[Emulator]:
    """One emulator for the whole session, started on first use and stopped at the end."""
    with _configured_emulator(pytestconfig) as emulator:
        yield emulator


@pytest.fixture
def aws_env(pylon_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    """A wiped emulator, and an environment in which every boto3 client goes there.

    Profiles, session tokens and per-service endpoint variables are removed for the
    test's duration, so nothing can reach a real AWS account.
    """
    pylon_backend.emulator.reset()
    endpoint = pylon_backend.emulator.endpoint
    remove, assign = endpoint.changes(os.environ)
    for name in remove:
        monkeypatch.delenv(name)
    for name, value in assign.items():
        monkeypatch.setenv(name, value)
    return endpoint


@pytest.fixture
def boto_session(aws_env: AwsEndpoint) -> boto3.session.Session:
    """A boto3 session with the dummy credentials; its clients reach the emulator."""
    return boto3.session.Session(
        aws_access_key_id=aws_env.access_key_id,
        aws_secret_access_key=aws_env.secret_access_key,
        region_name=aws_env.region,
    )


PipelineFactory = Callable[..., "LocalPipeline"]


@pytest.fixture
def pylon_pipeline(
    aws_env: AwsEndpoint, pylon_backend: Backend, pytestconfig: pytest.Config
) -> Iterator[PipelineFactory]:
    """Start a pipeline from a spec file or dict: provisioned, components running.

        def test_it(pylon_pipeline):
            pipeline = pylon_pipeline("pipeline.yaml")
            pipeline.send("parser", BaseMessage(...))
            pipeline.recorder("readings").wait_for(1)

    Resources get a per-test name prefix; everything is stopped and torn down afterwards.
    """
    from harness.pipeline.local_pipeline import LocalPipeline, Runner

    started: list[LocalPipeline] = []

    def start(
        spec: str | Path | Mapping[str, Any] | PipelineSpec, run: str | None = None, **options: Any
    ) -> LocalPipeline:
        pipeline = LocalPipeline(
            _as_spec(spec),
            aws_env,
            Runner(run or pylon_backend.run),
            prefix=f"t{uuid.uuid4().hex[:6]}-",
            project_root=Path(pytestconfig.rootpath),
            allow_remote=bool(pytestconfig.getoption("pylon_allow_remote")),
            **options,
        )
        started.append(pipeline)
        pipeline.start()
        return pipeline

    yield start
    for pipeline in reversed(started):
        pipeline.stop()
        pipeline.teardown()


def _as_spec(spec: str | Path | Mapping[str, Any] | PipelineSpec) -> PipelineSpec:
    from harness.spec import PipelineSpec, load_spec, spec_from_dict

    if isinstance(spec, PipelineSpec):
        return spec
    if isinstance(spec, Mapping):
        return spec_from_dict(dict(spec), "<spec dict>")
    return load_spec(spec)


@pytest.fixture
def topic_recorder(aws_env: AwsEndpoint) -> Iterator[Callable[[str], TopicRecorder]]:
    """`topic_recorder(topic_arn)` records everything the topic publishes from now on."""
    from harness.testing.recorder import TopicRecorder

    recorders: list[TopicRecorder] = []

    def record(topic_arn: str) -> TopicRecorder:
        recorder = TopicRecorder(topic_arn)
        recorders.append(recorder)
        return recorder

    yield record
    for recorder in recorders:
        recorder.close()


# ------------------------------------------------------------------ backends and Docker


def _params(names: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.docker) if name in DOCKER_BACKENDS else name
        for name in names
    ]


# For `@pytest.mark.parametrize("pylon_backend", ALL_BACKENDS, indirect=True)`: the same
# test on the embedded emulator and, where Docker runs, on LocalStack with components in
# containers.
ALL_BACKENDS = _params(("embedded", "containers"))
# The same test on every emulator (components as threads): embedded MiniStack, MiniStack
# in a container, LocalStack, moto.
EMULATOR_BACKENDS = _params(CONFORMANCE_BACKENDS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "docker: needs a Docker engine; skipped with the reason where none answers"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked `docker` where no engine answers, saying why."""
    if item.get_closest_marker("docker") is not None:
        _skip_without_docker()


def _skip_without_docker() -> None:
    from harness.containers.engine import cached_unavailable_reason

    reason = cached_unavailable_reason()
    if reason is not None:
        pytest.skip(f"needs Docker: {reason}")


@pytest.fixture(scope="session")
def pylon_emulator_pool() -> Iterator[EmulatorPool]:
    """Emulators other than the session's default, started when a backend first needs one."""
    pool = EmulatorPool()
    yield pool
    pool.stop_all()


@pytest.fixture
def pylon_backend(
    request: pytest.FixtureRequest, pytestconfig: pytest.Config, pylon_emulator_pool: EmulatorPool
) -> Backend:
    """Where this test's pipeline runs: the options' choice, or the backend parametrised in.

    Parametrised by name (`embedded`, `containers`, `localstack`, ...); a Docker backend is skipped, with
    the reason, where no engine answers.
    """
    name = getattr(request, "param", None)
    if name is None:
        emulator = request.getfixturevalue("pylon_emulator")
        return Backend("configured", emulator, pytestconfig.getoption("pylon_run"))
    kind, run = BACKENDS[name]
    if name in DOCKER_BACKENDS:
        _skip_without_docker()
    if _default_emulator_is(kind, pytestconfig):
        return Backend(name, request.getfixturevalue("pylon_emulator"), run)
    return Backend(name, pylon_emulator_pool.get(kind), run)


def _default_emulator_is(kind: EmulatorKind, config: pytest.Config) -> bool:
    """Whether the session's `pylon_emulator` is one Pylon starts, of this kind."""
    external = config.getoption("pylon_endpoint") or os.environ.get(ENDPOINT_ENV_VAR)
    return not external and kind is _configured_kind(config)

"""Choosing Docker backends, and what happens without an engine (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.containers.engine import unavailable_reason
from harness.emulators.kinds import EMULATOR_ENV_VAR, EmulatorKind, emulator_kind
from harness.errors import EmulatorError

pytest_plugins = ["pytester"]

MARKED_DOCKER = """
import pytest

@pytest.mark.docker
def test_needs_docker():
    raise AssertionError("must not run without an engine")
"""

BOTH_BACKENDS = """
import pytest
from harness.pytest_plugin import ALL_BACKENDS

@pytest.mark.parametrize("pylon_backend", ALL_BACKENDS, indirect=True)
def test_on_every_backend(pylon_backend, aws_env):
    assert pylon_backend.emulator.endpoint_url == aws_env.endpoint_url
"""

USES_LOCALSTACK = """
def test_emulator_is_a_container(pylon_emulator, boto_session):
    assert type(pylon_emulator).__name__ == "LocalStackEmulator"
    boto_session.client("sqs").create_queue(QueueName="in-a-container")
"""


def test_emulator_kind_comes_from_the_option_then_the_environment() -> None:
    assert emulator_kind(None, {}) is EmulatorKind.EMBEDDED
    assert emulator_kind(None, {EMULATOR_ENV_VAR: "localstack"}) is EmulatorKind.LOCALSTACK
    assert emulator_kind("embedded", {EMULATOR_ENV_VAR: "localstack"}) is EmulatorKind.EMBEDDED


def test_an_unknown_emulator_kind_names_the_variable() -> None:
    with pytest.raises(EmulatorError, match=r"\$PYLON_EMULATOR asks for emulator 'elasticmq'"):
        emulator_kind(None, {EMULATOR_ENV_VAR: "elasticmq"})


def test_without_an_engine_the_reason_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")

    reason = unavailable_reason()

    assert reason is not None
    assert "no Docker engine answers" in reason
    assert "DOCKER_HOST" in reason


def test_docker_tests_skip_with_the_reason_without_an_engine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makepyfile(MARKED_DOCKER)

    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*needs Docker: no Docker engine answers*"])


def test_the_container_backend_skips_and_the_embedded_one_runs_without_an_engine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ministack_cache_dir: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("PYLON_CACHE_DIR", str(ministack_cache_dir))
    pytester.makepyfile(BOTH_BACKENDS)

    result = pytester.runpytest_subprocess("-rs")

    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*needs Docker: no Docker engine answers*"])


@pytest.mark.docker
def test_pylon_emulator_option_starts_a_localstack_container(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(USES_LOCALSTACK)

    result = pytester.runpytest_subprocess("--pylon-emulator=localstack")

    result.assert_outcomes(passed=1)

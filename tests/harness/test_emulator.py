"""The embedded MiniStack, driven for real over HTTP: lifecycle, reset, isolation, failures.

Every wait polls with a deadline; nothing sleeps for a fixed time hoping a condition
became true.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.emulators import AwsEndpoint, Emulator, MiniStack
from harness.emulators.admin import health_error
from harness.emulators.isolated_env import IsolatedTool
from harness.emulators.ministack import MINISTACK_VERSION, ministack_tool
from harness.errors import EmulatorError
from tests.processes import group_members, pid_alive


def wait_for(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    give_up_at = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > give_up_at:
            pytest.fail(f"{what}: not true after {deadline_s} s")
        time.sleep(0.02)


@pytest.fixture
def ministack() -> Iterator[MiniStack]:
    emulator = MiniStack()
    emulator.start()
    yield emulator
    emulator.stop()


def test_pinned_version_is_installed_in_its_own_virtualenv() -> None:
    tool = ministack_tool()

    assert tool.is_installed()
    assert tool.root.name == f"ministack-{MINISTACK_VERSION}"
    assert tool.bin("ministack").is_file()
    assert Path(sys.prefix).resolve() != tool.root.resolve()


def test_started_emulator_answers_health_on_loopback(ministack: MiniStack) -> None:
    assert ministack.is_running()
    assert ministack.endpoint_url.startswith("http://127.0.0.1:")
    assert health_error(ministack.endpoint_url) is None
    assert ministack.endpoint == AwsEndpoint(ministack.endpoint_url, "us-east-1")


def test_stop_leaves_no_process_and_no_temporary_directory() -> None:
    emulator = MiniStack()
    emulator.start()
    pid, log_path = emulator.pid, emulator.log_path
    assert pid is not None and log_path is not None
    assert group_members(pid)

    emulator.stop()

    wait_for(lambda: not group_members(pid), 5.0, f"process group {pid} gone")
    assert not pid_alive(pid)
    assert not log_path.parent.exists()
    assert not emulator.is_running()


def test_stop_twice_is_harmless() -> None:
    emulator = MiniStack()
    emulator.start()
    emulator.stop()
    emulator.stop()

    with pytest.raises(EmulatorError, match="not running"):
        _ = emulator.endpoint_url


def test_emulator_dies_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from harness.emulators import MiniStack
        emulator = MiniStack()
        emulator.start()
        print(emulator.pid, emulator.log_path.parent, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid_text, workdir_text = parent.stdout.readline().split()
    emulator_pid = int(pid_text)
    assert pid_alive(emulator_pid)

    parent.kill()  # SIGKILL: no atexit, no cleanup code runs in the parent
    parent.wait()

    wait_for(lambda: not pid_alive(emulator_pid), 10.0, f"emulator {emulator_pid} gone")
    shutil.rmtree(workdir_text)  # the killed parent could not remove it


def test_reset_wipes_a_created_queue(
    pylon_emulator: Emulator, boto_session: boto3.session.Session
) -> None:
    sqs = boto_session.client("sqs")
    sqs.create_queue(QueueName="pylon-reset-probe")
    assert sqs.list_queues().get("QueueUrls")

    pylon_emulator.reset()

    assert not sqs.list_queues().get("QueueUrls")


def test_each_test_starts_from_an_empty_emulator(boto_session: boto3.session.Session) -> None:
    # test_reset_wipes_a_created_queue's queue is gone even if that test did not reset.
    boto_session.client("sqs").create_queue(QueueName="pylon-leftover")
    assert len(boto_session.client("sqs").list_queues()["QueueUrls"]) == 1


def test_session_emulator_is_reused_across_tests(pylon_emulator: Emulator) -> None:
    assert pylon_emulator.is_running()


@pytest.fixture
def hostile_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings that would break or misroute a client if aws_env left them in place."""
    monkeypatch.setenv("AWS_PROFILE", "pylon-no-such-profile")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-real-looking-token")
    # A dead loopback port, so a failure of this test never sends traffic off the machine.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")


@pytest.mark.usefixtures("hostile_aws_env")
def test_aws_env_ignores_profiles_and_service_endpoint_overrides(
    request: pytest.FixtureRequest,
) -> None:
    endpoint: AwsEndpoint = request.getfixturevalue("aws_env")

    assert "AWS_PROFILE" not in os.environ
    assert "AWS_ENDPOINT_URL_SQS" not in os.environ
    assert os.environ["AWS_ENDPOINT_URL"] == endpoint.endpoint_url
    sqs = boto3.client("sqs")  # built from the environment alone
    assert sqs.meta.endpoint_url == endpoint.endpoint_url
    assert not sqs.list_queues().get("QueueUrls")


def test_a_second_instance_gets_its_own_port(pylon_emulator: Emulator) -> None:
    with MiniStack() as other:
        assert other.endpoint_url != pylon_emulator.endpoint_url
        assert health_error(other.endpoint_url) is None
        assert health_error(pylon_emulator.endpoint_url) is None


def test_extra_env_reaches_the_emulator_but_cannot_unbind_loopback() -> None:
    extra_env = {"LOG_LEVEL": "DEBUG", "BIND_HOST": "0.0.0.0"}
    with MiniStack(extra_env=extra_env) as emulator:
        assert emulator.pid is not None
        environ = Path(f"/proc/{emulator.pid}/environ").read_bytes().split(b"\0")
        assert b"BIND_HOST=127.0.0.1" in environ
        assert emulator.log_path is not None
        log_path = emulator.log_path
        wait_for(lambda: "DEBUG" in log_path.read_text(), 5.0, "debug lines in the log")


def test_missing_executable_is_an_error_naming_it(tmp_path: Path) -> None:
    bogus = tmp_path / "no-venv" / "bin" / "ministack"

    with pytest.raises(EmulatorError, match="no-venv/bin/ministack"):
        MiniStack(executable=bogus).start()


def test_emulator_exiting_early_is_reported_with_its_log(tmp_path: Path) -> None:
    script = tmp_path / "ministack"
    script.write_text("#!/bin/sh\necho 'boom: cannot serve' >&2\nexit 3\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    emulator = MiniStack(executable=script, start_timeout_s=30.0)
    started = time.monotonic()

    with pytest.raises(EmulatorError, match=r"(?s)exited with code 3.*boom: cannot serve"):
        emulator.start()

    assert time.monotonic() - started < 10.0, "a dead process must not use the whole deadline"
    assert not emulator.is_running()


def test_port_in_use_is_reported_with_ministacks_reason() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        with pytest.raises(EmulatorError, match="already in use"):
            MiniStack(port=port).start()


@pytest.mark.slow
def test_failing_pip_install_reports_pips_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No index and no local wheels: pip fails fast and offline.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    tool = IsolatedTool("pylon-no-such-package", "0.0.1", tmp_path / "cache")

    with pytest.raises(EmulatorError, match=r"(?s)pylon-no-such-package==0\.0\.1.*pip said"):
        tool.install()

    assert not tool.is_installed()


def _client(emulator: MiniStack) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_restart_with_persistence_keeps_queues_messages_and_the_port() -> None:
    with MiniStack(extra_env={"PERSIST_STATE": "1"}) as emulator:
        sqs = _client(emulator)
        url = sqs.create_queue(QueueName="kept")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="waiting")
        [in_flight] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"]
        sqs.send_message(QueueUrl=url, MessageBody="visible")
        endpoint, pid = emulator.endpoint_url, emulator.pid

        emulator.restart()

        assert (emulator.endpoint_url, emulator.is_running()) == (endpoint, True)
        assert emulator.pid != pid
        # The receipt handle taken before the restart still deletes its message.
        sqs.delete_message(QueueUrl=url, ReceiptHandle=in_flight["ReceiptHandle"])
        [left] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        assert left["Body"] == "visible"


def test_restart_without_persistence_comes_back_empty() -> None:
    with MiniStack() as emulator:
        sqs = _client(emulator)
        sqs.create_queue(QueueName="gone")

        emulator.restart()

        assert sqs.list_queues().get("QueueUrls", []) == []


def test_restart_of_a_stopped_emulator_is_an_error() -> None:
    with pytest.raises(EmulatorError, match="cannot be restarted"):
        MiniStack().restart()

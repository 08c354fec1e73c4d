"""Components that end are replaced (Supervisor), and a hung task under the in-process
runner is reported rather than taking the test process down with it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from harness.endpoints import AwsEndpoint
from harness.messaging.sending import send_message
from harness.provision import ProvisionedComponent, provision
from harness.reliability.faults import FaultError, signal_component
from harness.run.inprocess import InProcessRunner
from harness.run.processes import ProcessRunner
from harness.run.supervisor import Supervisor
from harness.spec import spec_from_dict
from harness.testing.waiting import wait_until
from pylon import BaseMessage
from tests.runtime.hanging_component import release

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hanging(boto_session: boto3.session.Session) -> ProvisionedComponent:
    spec = spec_from_dict(
        {
            "name": "supervised",
            "components": {
                "hanging": {
                    "type": "pipeline",
                    "entrypoint": "tests.runtime.hanging_component:hangingTask",
                    "visibility_timeout": 60,
                    "config": {"WAIT_TIME_SECONDS": 1, "TASK_TIMEOUT_SECONDS": 1},
                }
            },
        }
    )
    return provision(spec, boto_session).components["hanging"]


@pytest.fixture
def released() -> Iterator[None]:
    release.clear()
    yield
    release.set()  # lets a task hung in this process's thread return


def test_a_killed_component_is_restarted_with_its_exit_code_recorded(
    hanging: ProvisionedComponent, aws_env: AwsEndpoint
) -> None:
    with ProcessRunner([hanging], aws_env, lambda name, line: None, ROOT) as runner:
        supervisor = Supervisor(runner, [hanging])
        first = signal_component(runner, "hanging", signal.SIGKILL)

        [restart] = wait_until(supervisor.restart_exited, 15, what="a restart")

        assert (restart.component, restart.exit_code) == ("hanging", -signal.SIGKILL)
        assert runner.processes["hanging"].pid != first
        assert runner.processes["hanging"].poll() is None


def test_signalling_a_component_that_is_not_running_is_a_fault_error(
    hanging: ProvisionedComponent, aws_env: AwsEndpoint
) -> None:
    runner = ProcessRunner([hanging], aws_env, lambda name, line: None, ROOT)

    with pytest.raises(FaultError, match="'hanging' has no running process"):
        signal_component(runner, "hanging", signal.SIGTERM)


def test_a_hung_task_in_process_is_reported_and_its_message_released(
    hanging: ProvisionedComponent, released: None
) -> None:
    assert hanging.queue_url is not None
    runner = InProcessRunner([hanging], ROOT)
    runner.start()
    try:
        message_id = send_message(hanging.queue_url, BaseMessage(body="hang"))

        wait_until(lambda: runner.errors.get("hanging"), 15, what="the hung task to be reported")
        # Handed back at once (not after the 60 s lease) while the thread is still stuck.
        [back] = wait_until(
            lambda: boto3.client("sqs").receive_message(QueueUrl=hanging.queue_url).get("Messages"),
            15,
            what="the released message",
        )
    finally:
        release.set()
        runner.stop()

    assert back["MessageId"] == message_id
    assert "cannot be stopped in a thread" in str(runner.errors["hanging"])

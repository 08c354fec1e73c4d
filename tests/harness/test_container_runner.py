"""Components as containers of the Pylon base image (the `containers` runner). Needs Docker."""

from __future__ import annotations

import boto3
import pytest

from harness.containers import engine
from harness.endpoints import AwsEndpoint
from harness.provision import provision
from harness.run.containers import ContainerRunner
from harness.spec import load_spec
from harness.spec.local_defaults import with_local_defaults
from harness.testing.recorder import TopicRecorder
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from pylon.aws.sns import SnsTopic
from pylon.codec import encode

pytestmark = pytest.mark.docker

HELLO_SPEC = "examples/readme/hello.yaml"


def test_component_container_answers_logs_with_its_name_and_stops_cleanly(
    aws_env: AwsEndpoint,
    boto_session: boto3.session.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYLON_TEST_HOST_ONLY", "must-not-reach-the-container")
    provisioned = provision(with_local_defaults(load_spec(HELLO_SPEC)), boto_session)
    recorder = TopicRecorder(provisioned.topic_arn("replies"), boto_session)
    lines: list[tuple[str, str]] = []
    runner = ContainerRunner(
        [provisioned.components["hello"]], aws_env, lambda name, line: lines.append((name, line))
    )

    with runner:
        container = runner.containers["hello"]
        SnsTopic(provisioned.topic_arn("greetings")).publish(
            [encode(BaseMessage(body="hi", ingestionId="root-1"))]
        )
        (reply,) = recorder.wait_for(1, lambda m: m.objectType is ObjectType.RAW_CONTENT, 60)
        environment = container.attrs["Config"]["Env"]
    codes = runner.stop()

    assert reply.body == "Hello pylon!"
    assert codes == {}  # the `with` already stopped it: a second stop has nothing left
    assert any(name == "hello" and "heartbeat" in line for name, line in lines)
    assert f"AWS_ENDPOINT_URL={aws_env.endpoint_url}" in environment
    assert not any(entry.startswith("PYLON_TEST_HOST_ONLY=") for entry in environment)
    docker_engine = engine.client()
    assert docker_engine.containers.list(all=True, filters={"id": container.id}) == []
    docker_engine.close()
    recorder.close()


def test_stop_sigterms_the_component_which_exits_zero(
    aws_env: AwsEndpoint, boto_session: boto3.session.Session
) -> None:
    provisioned = provision(with_local_defaults(load_spec(HELLO_SPEC)), boto_session)
    lines: list[str] = []
    runner = ContainerRunner(
        [provisioned.components["hello"]], aws_env, lambda name, line: lines.append(line)
    )
    runner.start()
    # Running its loop (so its SIGTERM handler is installed), not merely started.
    wait_until(lambda: any("heartbeat run_forever" in line for line in lines), 60)

    assert runner.stop() == {"hello": 0}
    assert any("received SIGTERM" in line for line in lines)

"""Security: secrets stay out of every log, remote endpoints need an explicit flag, and
provisioned queue policies admit only the queue's own topics."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import boto3
import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.provision import provision
from harness.reliability.log_watch import LogWatch
from harness.spec import spec_from_dict
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType, UrlResource
from tests.e2e.conftest import DedicatedEmulator

ROOT = Path(__file__).resolve().parents[2]

DB_PASSWORD = "planted-db-password-4c1f"
API_TOKEN = "planted-api-token-9d2e"
AWS_SECRET = "planted-aws-secret-key-5e5e"
BEARER_TOKEN = "planted-bearer-token-77aa"
BASIC_PASSWORD = "planted-basic-pass-31bb"
PLANTED = (DB_PASSWORD, API_TOKEN, AWS_SECRET, BEARER_TOKEN, BASIC_PASSWORD)


@dataclass(frozen=True)
class PlantedCredentials(AwsEndpoint):
    """The emulator (which checks no signature), reached with a secret key to look for."""

    secret_access_key: ClassVar[str] = AWS_SECRET


SPEC = {
    "name": "secrets",
    "components": {
        "careless": {
            "type": "pipeline",
            "entrypoint": "tests.e2e.security_components:careless",
            "config_in_ssm": True,  # PYLON_CONFIG in a SecureString, fetched at start
            "max_receive_count": 2,
            "visibility_timeout": 1,
            "config": {
                "DB_PASSWORD": DB_PASSWORD,
                "API_TOKEN": API_TOKEN,
                "LOG_LEVEL": "DEBUG",
                "WAIT_TIME_SECONDS": 1,
            },
        }
    },
}


def url_message(auth: dict[str, str]) -> BaseMessage:
    return BaseMessage(
        body=UrlResource(url="https://example.org/data.csv", auth=auth),
        objectType=ObjectType.URL_RESOURCE,
    )


def test_planted_secrets_never_reach_the_logs_of_a_running_pipeline(
    aws_env: AwsEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    log = LogWatch()
    pipeline = LocalPipeline(
        spec_from_dict(SPEC),
        PlantedCredentials(aws_env.endpoint_url),
        Runner.PROCESSES,
        sink=log,
        project_root=ROOT,
        prefix="sec-",
    )
    # The components log at DEBUG (their config says so); this process at INFO, as runs
    # do: botocore's DEBUG lines dump whole request bodies, message data included.
    with caplog.at_level(logging.INFO), pipeline:
        pipeline.send("careless", BaseMessage(body="hello"))
        pipeline.send("careless", BaseMessage(body="fail"))
        pipeline.send("careless", url_message({"type": "bearer", "token": BEARER_TOKEN}))
        pipeline.send(
            "careless", url_message({"type": "basic", "username": "u", "password": BASIC_PASSWORD})
        )
        bad_auth = {"url": "https://example.org", "auth": {"type": "magic", "token": BEARER_TOKEN}}
        boto3.client("sqs").send_message(
            QueueUrl=str(pipeline.resources.components["careless"].queue_url),
            MessageBody=json.dumps(bad_auth),
            MessageAttributes={"objectType": {"DataType": "String", "StringValue": "urlResource"}},
        )
        pipeline.recorder("careless-out").wait_for(
            3, lambda m: m.objectType is not ObjectType.INGESTION_STEP, timeout_s=60
        )
        wait_until(lambda: log.count("failed (receive 2)") >= 2, 60, what="both failures retried")
    pipeline.teardown()

    logged = "\n".join(log.lines()) + "\n" + caplog.text
    assert [secret for secret in PLANTED if secret in logged] == []
    # The careless lines were written, with the secrets masked: the check can fail.
    assert "connecting with password ***" in logged
    assert "ConnectionError: login refused for token ***" in logged
    assert "auth=***" in logged and "'DB_PASSWORD': '***'" in logged
    assert "auth.type: must be one of" in logged


@pytest.mark.parametrize(
    "arguments",
    [
        ["up", "examples/readme/hello.yaml"],
        ["provision", "examples/readme/hello.yaml"],
        ["send", "greetings", "--body", "hi"],
        ["tail", "greetings", "--seconds", "1"],
        ["dlq", "redrive", "hello-in-dlq"],
    ],
    ids=["up", "provision", "send", "tail", "dlq-redrive"],
)
@pytest.mark.parametrize("how", ["option", "environment"])
def test_every_command_refuses_a_remote_endpoint_without_allow_remote(
    arguments: list[str], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = "http://10.1.2.3:4566"
    if how == "option":
        arguments = [*arguments, "--endpoint", remote]
    else:
        monkeypatch.setenv("PYLON_ENDPOINT", remote)

    result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 1, result.output
    assert "is not on this machine" in " ".join(result.output.split())
    assert "Traceback" not in result.output


POLICY_SPEC = {
    "name": "policies",
    "topics": ["mine", "theirs"],
    "components": {
        "guarded": {
            "type": "sink",
            "entrypoint": "tests.harness.lambda_components:upper",
            "subscribe": [{"topic": "mine"}],
        }
    },
}


def deliveries_from_both_topics(session: boto3.session.Session) -> list[str]:
    """Provision, subscribe the queue to the other topic behind provisioning's back,
    publish on both; return the bodies the queue received."""
    pipeline = provision(spec_from_dict(POLICY_SPEC), session)
    queue = pipeline.components["guarded"]
    sns, sqs = session.client("sns"), session.client("sqs")
    sns.subscribe(
        TopicArn=pipeline.topic_arn("theirs"),
        Protocol="sqs",
        Endpoint=str(queue.queue_arn),
        Attributes={"RawMessageDelivery": "true"},
    )
    sns.publish(TopicArn=pipeline.topic_arn("theirs"), Message="from theirs")
    sns.publish(TopicArn=pipeline.topic_arn("mine"), Message="from mine")
    received: list[str] = []

    def both_published_arrived() -> bool:
        response = sqs.receive_message(QueueUrl=str(queue.queue_url), MaxNumberOfMessages=10)
        received.extend(m["Body"] for m in response.get("Messages", []))
        return "from mine" in received

    wait_until(both_published_arrived, 15, what="the message from the queue's own topic")
    # Fan-out is synchronous in the emulator: anything from "theirs" is in by now.
    response = sqs.receive_message(QueueUrl=str(queue.queue_url), MaxNumberOfMessages=10)
    return sorted(received + [m["Body"] for m in response.get("Messages", [])])


def test_a_provisioned_queue_admits_only_its_own_topics_when_policies_are_enforced(
    dedicated_emulator: DedicatedEmulator,
) -> None:
    dedicated_emulator(AUTH="true")

    assert deliveries_from_both_topics(boto3.session.Session()) == ["from mine"]


def test_without_enforcement_the_emulator_delivers_from_any_topic(
    boto_session: boto3.session.Session,
) -> None:
    """The emulator gap the test above closes: the default MiniStack ignores the policy."""
    assert deliveries_from_both_topics(boto_session) == ["from mine", "from theirs"]

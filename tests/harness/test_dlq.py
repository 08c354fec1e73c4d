"""`harness.messaging.dlq.redrive` and `pylon dlq redrive` against the emulator."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from harness.messaging.dlq import RedriveError, redrive
from harness.pipeline.activity import queue_depth
from harness.provision import ProvisionedComponent, provision
from harness.spec import spec_from_dict
from harness.testing.waiting import wait_until

SPEC = {
    "name": "redrive",
    "topics": ["in"],
    "components": {
        "picky": {
            "type": "sink",
            "entrypoint": "tests.harness.lambda_components:upper",
            "subscribe": [{"topic": "in"}],
            "max_receive_count": 1,
        }
    },
}
ATTRIBUTES = {
    "objectType": {"DataType": "String", "StringValue": "rawContent"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    "count": {"DataType": "Number", "StringValue": "3"},
}


@pytest.fixture
def picky(boto_session: boto3.session.Session) -> ProvisionedComponent:
    return provision(spec_from_dict(SPEC), boto_session).components["picky"]


def depth(url: str) -> int:
    return queue_depth(url).total


def dead_letters(component: ProvisionedComponent, *bodies: str) -> list[str]:
    """Send `bodies` and let SQS move them to the DLQ (maxReceiveCount 1); their ids."""
    url, dlq = component.queue_url, component.dead_letter_queue_url
    assert url and dlq
    sqs = boto3.client("sqs")
    ids = [
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES)["MessageId"]
        for body in bodies
    ]
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    wait_until(
        lambda: "Messages" not in sqs.receive_message(QueueUrl=url) and depth(dlq) == len(ids),
        15,
        what="the messages to reach the dead-letter queue",
    )
    return ids


def receive_all(url: str) -> list[dict]:  # type: ignore[type-arg]
    response = boto3.client("sqs").receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def test_redrive_moves_each_message_back_with_its_body_and_attributes(
    picky: ProvisionedComponent,
) -> None:
    assert picky.queue_url and picky.dead_letter_queue_url
    ids = dead_letters(picky, "one", "two")

    result = redrive(picky.dead_letter_queue_url)

    assert sorted(result.moved) == sorted(ids)
    assert set(result.moved.values()) == {picky.queue_url}
    assert depth(picky.dead_letter_queue_url) == 0
    back = receive_all(picky.queue_url)
    assert sorted(m["Body"] for m in back) == ["one", "two"]
    for message in back:
        assert message["MessageAttributes"] == ATTRIBUTES
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"  # a fresh message


def test_redrive_to_a_named_queue_and_at_most_max_messages(
    picky: ProvisionedComponent,
) -> None:
    assert picky.dead_letter_queue_url
    dead_letters(picky, "a", "b", "c")
    elsewhere = boto3.client("sqs").create_queue(QueueName="elsewhere")["QueueUrl"]

    result = redrive(picky.dead_letter_queue_url, to="elsewhere", max_messages=2)

    assert result.count == 2 and set(result.moved.values()) == {elsewhere}
    assert depth(elsewhere) == 2 and depth(picky.dead_letter_queue_url) == 1


def test_a_message_with_no_known_source_stays_in_the_dead_letter_queue(
    aws_env: AwsEndpoint,
) -> None:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="orphans-dlq")["QueueUrl"]
    [message_id] = [sqs.send_message(QueueUrl=dlq, MessageBody="orphan")["MessageId"]]

    result = redrive("orphans-dlq")

    assert result.count == 0
    assert "DeadLetterQueueSourceArn" in result.left[message_id]
    assert [m["Body"] for m in receive_all(dlq)] == ["orphan"]  # visible again at once


def test_a_failed_send_deletes_nothing(picky: ProvisionedComponent) -> None:
    assert picky.queue_url and picky.dead_letter_queue_url
    dead_letters(picky, "kept")
    boto3.client("sqs").delete_queue(QueueUrl=picky.queue_url)

    with pytest.raises(RedriveError, match="still in the dead-letter queue"):
        redrive(picky.dead_letter_queue_url)

    assert depth(picky.dead_letter_queue_url) == 1


def test_redrive_refuses_a_missing_queue(aws_env: AwsEndpoint) -> None:
    with pytest.raises(RedriveError, match="no queue named 'nothing-here'"):
        redrive("nothing-here")


# ---------------------------------------------------------------- the CLI


def test_cli_redrives_a_components_dead_letter_queue_named_by_the_spec(
    picky: ProvisionedComponent, aws_env: AwsEndpoint, tmp_path: Path
) -> None:
    assert picky.queue_url and picky.dead_letter_queue_url
    dead_letters(picky, "x")
    spec_file = tmp_path / "pipeline.yaml"
    spec_file.write_text(yaml.safe_dump(SPEC))

    arguments = ["--spec", str(spec_file), "--component", "picky"]
    result = CliRunner().invoke(
        app, ["dlq", "redrive", *arguments, "--endpoint", aws_env.endpoint_url]
    )

    assert result.exit_code == 0, result.output
    assert "moved 1 message(s) from" in result.output and "picky-in" in result.output
    assert depth(picky.queue_url) == 1 and depth(picky.dead_letter_queue_url) == 0


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ([], "give a dead-letter queue, or --spec SPEC with --component NAME"),
        (["q", "--spec", "x.yaml", "--component", "c"], "give a dead-letter queue, or --spec"),
        (["--spec", "examples/readme/hello.yaml", "--component", "nope"], "no component 'nope'"),
        (["q", "--endpoint", "http://10.20.30.40:4566"], "is not on this machine"),
    ],
    ids=["nothing", "both", "unknown-component", "remote-endpoint"],
)
def test_cli_errors_are_one_red_line_and_exit_code_1(arguments: list[str], error: str) -> None:
    result = CliRunner().invoke(app, ["dlq", "redrive", *arguments])

    assert result.exit_code == 1
    assert error in result.output
    assert "Traceback" not in result.output

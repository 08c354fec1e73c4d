"""`QueuePeek` and `TopicTap` against the emulator: read without consuming, clean up after."""

from __future__ import annotations

import json
import time

import boto3

from harness.endpoints import AwsEndpoint
from harness.observe.taps import QueuePeek, TopicTap
from harness.testing.waiting import wait_until


def _queue_with_dlq(max_receive_count: int) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="peeked-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
    url = sqs.create_queue(QueueName="peeked", Attributes={"RedrivePolicy": json.dumps(policy)})[
        "QueueUrl"
    ]
    return url, dlq_url


def _receive_counts(url: str) -> list[str]:
    messages = (
        boto3.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
        .get("Messages", [])
    )
    return [m["Attributes"]["ApproximateReceiveCount"] for m in messages]


def test_a_long_peek_receives_each_message_once_and_returns_it(aws_env: AwsEndpoint) -> None:
    url, dlq_url = _queue_with_dlq(max_receive_count=2)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="keep me")
    seen: list[str] = []

    with_hold = QueuePeek(url, hold_seconds=2)
    deadline = time.monotonic() + 5  # over two holds: they must be renewed, not re-received
    while time.monotonic() < deadline:
        seen += [m["Body"] for m in with_hold.receive(wait_seconds=1)]
    with_hold.close()

    assert seen == ["keep me"]
    assert _receive_counts(url) == ["2"]  # the peek's single receive, then ours
    assert (
        boto3.client("sqs").get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )


def test_a_killed_peek_frees_its_messages_when_the_hold_runs_out(aws_env: AwsEndpoint) -> None:
    url, _ = _queue_with_dlq(max_receive_count=5)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="come back")

    abandoned = QueuePeek(url, hold_seconds=1)
    assert [m["Body"] for m in abandoned.receive(wait_seconds=1)] == ["come back"]

    counts = wait_until(lambda: _receive_counts(url), timeout_s=15, what="the message back")
    assert counts == ["2"]


def test_topic_tap_sees_publishes_and_removes_its_queue(aws_env: AwsEndpoint) -> None:
    sns = boto3.client("sns")
    topic_arn = sns.create_topic(Name="watched")["TopicArn"]

    with TopicTap(topic_arn) as tap:
        sns.publish(TopicArn=topic_arn, Message="news")
        (message,) = wait_until(lambda: tap.receive(wait_seconds=1), timeout_s=15, what="news")

    assert message["Body"] == "news"
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []

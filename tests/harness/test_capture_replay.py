"""Capture from topics and queues, and replay into local queues, topics and pipelines."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.capture.format import CaptureFormatError, CaptureReader, CaptureWriter
from harness.capture.recording import CaptureReport, StopWhen, capture
from harness.capture.replay import ReplayError, ReplayFilter, replay
from harness.endpoints import AwsEndpoint
from harness.messaging.targets import Target, resolve_target
from harness.testing import wait_until
from pylon.aws.s3 import S3Store
from pylon.codec import encode, inbound_from_sqs
from pylon.models.messages import BaseMessage
from pylon.payloads import PayloadOffloader, resolve_body
from pylon.s3_pointer import PointerFormat, parse_pointer, pointer_format
from pylon.wire import WireMessage
from tests.conftest import subscribe_raw

ATTRIBUTES: dict[str, Any] = {
    "objectType": {"DataType": "String", "StringValue": "rawContent"},
    "rank": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
}


def queue(name: str, **attributes: str) -> str:
    return boto3.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def send(url: str, body: str, attributes: dict[str, Any] | None = None) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=url, MessageBody=body, MessageAttributes=attributes or ATTRIBUTES
    )


def drain(url: str, expected: int) -> list[dict[str, Any]]:
    """Receive (and delete) until `expected` messages arrived; fail on timeout."""
    sqs = boto3.client("sqs")
    seen: list[dict[str, Any]] = []

    def enough() -> bool:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        for raw in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
        seen.extend(batch)
        return len(seen) >= expected

    wait_until(enough, 30, describe=lambda: str(seen), what=f"{expected} messages on {url}")
    return seen


def visible(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def capture_file(tmp_path: Path, target: Target, stop: StopWhen) -> tuple[Path, CaptureReport]:
    path = tmp_path / "capture.jsonl"
    with CaptureWriter(path) as writer:
        report = capture(target, writer, stop, hold_seconds=30)
    return path, report


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def topic(aws_env: AwsEndpoint) -> str:
    return boto3.client("sns").create_topic(Name="events")["TopicArn"]


@pytest.fixture
def background() -> Iterator[Callable[[Callable[[], Any]], threading.Thread]]:
    threads: list[threading.Thread] = []

    def start(work: Callable[[], Any]) -> threading.Thread:
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.join(60)


# ---------------------------------------------------------------- capture


def test_topic_capture_records_what_is_published_and_removes_its_queue(
    topic: str, tmp_path: Path, background: Callable[[Callable[[], Any]], threading.Thread]
) -> None:
    sns = boto3.client("sns")
    result: dict[str, Any] = {}
    thread = background(
        lambda: result.update(
            zip(
                ("path", "report"),
                capture_file(tmp_path, resolve_target("events"), StopWhen(count=3, seconds=60)),
                strict=True,
            )
        )
    )
    wait_until(
        lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"], 30, what="the tap"
    )

    for number in range(4):
        sns.publish(TopicArn=topic, Message=f"event {number}", MessageAttributes=ATTRIBUTES)
    thread.join(60)

    records = lines(result["path"])
    assert result["report"].captured == 3
    assert sorted(r["body"] for r in records) == ["event 0", "event 1", "event 2"]
    assert records[0]["attributes"]["rank"] == {"DataType": "Number", "StringValue": "42"}
    assert base64.b64decode(records[0]["attributes"]["blob"]["BinaryValue"]) == b"\x00\x01\xff"
    assert records[0]["source"] == {
        "kind": "topic", "name": "events", "address": topic,
        "endpoint": boto3.client("sqs").meta.endpoint_url,
    }  # fmt: skip
    assert records[0]["sentAt"] and records[0]["capturedAt"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def test_queue_capture_leaves_every_message_visible_again(
    aws_env: AwsEndpoint, tmp_path: Path
) -> None:
    url = queue("work")
    for number in range(15):
        send(url, f"job {number}")

    path, report = capture_file(tmp_path, resolve_target("work"), StopWhen())

    assert report.captured == 15 and report.not_released == []
    assert sorted(r["body"] for r in lines(path)) == sorted(f"job {n}" for n in range(15))
    wait_until(lambda: visible(url) == 15, 30, what="15 visible messages")
    received = drain(url, 15)
    # The capture's receive counts: each message has now been received twice.
    assert {raw["Attributes"]["ApproximateReceiveCount"] for raw in received} == {"2"}


def test_queue_capture_stops_at_the_count(aws_env: AwsEndpoint, tmp_path: Path) -> None:
    url = queue("work")
    for number in range(12):
        send(url, f"job {number}")

    path, report = capture_file(tmp_path, resolve_target(url), StopWhen(count=5))

    assert report.captured == 5 == len(lines(path))
    wait_until(lambda: visible(url) == 12, 30, what="12 visible messages")


def test_non_raw_delivery_is_unwrapped_from_its_envelope(topic: str, tmp_path: Path) -> None:
    url = queue("enveloped")
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    boto3.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"]
    )
    boto3.client("sns").publish(
        TopicArn=topic, Message="inner", MessageAttributes={"objectType": ATTRIBUTES["objectType"]}
    )
    wait_until(lambda: visible(url) == 1, 30, what="the enveloped message")

    path, _ = capture_file(tmp_path, resolve_target(url), StopWhen())

    (record,) = lines(path)
    assert record["body"] == "inner"
    assert record["attributes"]["objectType"] == {"DataType": "String", "StringValue": "rawContent"}
    assert record["snsEnvelope"]["TopicArn"] == topic


# ---------------------------------------------------------------- S3 payloads


@pytest.fixture
def offloaded_message(aws_env: AwsEndpoint) -> tuple[str, str]:
    """A queue holding one message whose body was offloaded to S3 as Pylon does it."""
    boto3.client("s3").create_bucket(Bucket="source-account")
    big = json.dumps({"rows": ["x" * 100] * 3000})
    wire = encode(BaseMessage(body=big, payloadMimeType="application/json"))
    offloaded = PayloadOffloader(S3Store(), "s3://source-account/offload/").offload_if_needed(wire)
    url = queue("with-payloads")
    send(url, offloaded.body, _string_attributes(offloaded))
    return url, big


def _string_attributes(wire: WireMessage) -> dict[str, Any]:
    return {k: {"DataType": "String", "StringValue": v} for k, v in wire.attributes.items()}


def test_offloaded_payload_is_captured_and_rematerialised_locally(
    offloaded_message: tuple[str, str], tmp_path: Path
) -> None:
    url, big = offloaded_message
    path, report = capture_file(tmp_path, resolve_target(url), StopWhen())
    _empty_bucket("source-account")  # the source account is out of reach when replaying
    drain(url, 1)

    result = replay(path, resolve_target(url), payload_s3_path="s3://local-payloads/replayed/")

    assert report.payloads == 1 and result.payloads_restored == 1
    (raw,) = drain(url, 1)
    inbound = inbound_from_sqs(raw)
    location = parse_pointer(inbound.body)
    assert location is not None and location.bucket == "local-payloads"
    assert inbound.attributes["payloadS3Path"] == location.uri
    assert resolve_body(inbound, S3Store()) == big


def test_a_legacy_pointer_keeps_its_format_when_its_payload_is_rematerialised(
    aws_env: AwsEndpoint, tmp_path: Path
) -> None:
    boto3.client("s3").create_bucket(Bucket="java-producer")
    big = "x" * 300_000
    wire = encode(BaseMessage(body=big))
    legacy = PayloadOffloader(
        S3Store(), "s3://java-producer/offload/", PointerFormat.LEGACY
    ).offload_if_needed(wire)
    url = queue("from-java")
    send(url, legacy.body, _string_attributes(legacy))
    path, _ = capture_file(tmp_path, resolve_target(url), StopWhen())
    drain(url, 1)

    replay(path, resolve_target(url), payload_s3_path="s3://local-payloads/replayed/")

    (raw,) = drain(url, 1)
    inbound = inbound_from_sqs(raw)
    assert pointer_format(inbound.body) is PointerFormat.LEGACY
    assert resolve_body(inbound, S3Store()) == big


def test_a_message_captured_inline_over_the_sns_limit_is_offloaded_when_replayed(
    aws_env: AwsEndpoint, topic: str, tmp_path: Path
) -> None:
    # SQS takes up to 1 MiB inline; replayed onto a topic, SNS would refuse it.
    source = queue("big-inline")
    big = "y" * 400_000
    send(source, big, {"objectType": ATTRIBUTES["objectType"]})
    path, _ = capture_file(tmp_path, resolve_target(source), StopWhen())
    reader = queue("reader")
    subscribe_raw(topic, reader)

    report = replay(path, resolve_target(topic), payload_s3_path="s3://local-payloads/replayed/")

    assert report.sent == 1
    (raw,) = drain(reader, 1)
    inbound = inbound_from_sqs(raw)
    assert inbound.attributes["payloadType"] == "S3"
    assert inbound.attributes["payloadS3Path"].startswith("s3://local-payloads/replayed/")
    assert raw["MessageAttributes"]["ExtendedPayloadSize"] == {
        "DataType": "Number",
        "StringValue": "400000",
    }
    assert resolve_body(inbound, S3Store()) == big


def test_payload_missing_at_capture_time_stops_the_replay_unless_skipped(
    offloaded_message: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = offloaded_message
    _empty_bucket("source-account")
    send(url, "plain", {"objectType": ATTRIBUTES["objectType"]})
    path, report = capture_file(tmp_path, resolve_target(url), StopWhen())
    drain(url, 2)

    with pytest.raises(ReplayError, match=r"line 1: .* was not captured .*NoSuchKey"):
        replay(path, resolve_target(url))
    skipping = replay(path, resolve_target(url), skip_bad_lines=True)

    assert len(report.payload_errors) == 1
    assert visible(url) <= 1 and [bad.line for bad in skipping.skipped] == [1]
    assert [raw["Body"] for raw in drain(url, 1)] == ["plain"]


def _empty_bucket(bucket: str) -> None:
    s3 = boto3.client("s3")
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])


# ---------------------------------------------------------------- replay


@pytest.fixture
def captured(aws_env: AwsEndpoint, tmp_path: Path) -> Path:
    """Six captured messages: alternating objectTypes, sent a minute apart from T0."""
    url = queue("origin")
    for number in range(6):
        object_type = "dataAsset" if number % 2 else "rawContent"
        send(
            url,
            f"m{number}",
            {**ATTRIBUTES, "objectType": {"DataType": "String", "StringValue": object_type}},
        )
    path, _ = capture_file(tmp_path, resolve_target(url), StopWhen())
    records = sorted(lines(path), key=lambda r: r["body"])
    for number, record in enumerate(records):
        record["sentAt"] = f"2024-05-01T10:0{number}:00.000Z"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_replay_into_a_queue_preserves_bodies_and_every_attribute(captured: Path) -> None:
    target_url = queue("replayed")

    report = replay(captured, resolve_target("replayed"))

    received = drain(target_url, 6)
    assert report.sent == 6
    assert sorted(raw["Body"] for raw in received) == [f"m{n}" for n in range(6)]
    attributes = received[0]["MessageAttributes"]
    assert attributes["rank"] == {"DataType": "Number", "StringValue": "42"}
    assert attributes["blob"]["BinaryValue"] == b"\x00\x01\xff"


def test_replay_into_a_topic_filters_by_type_and_time(captured: Path, topic: str) -> None:
    subscriber = queue("subscriber")
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])
    boto3.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    since = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)

    report = replay(
        captured,
        resolve_target(topic),
        ReplayFilter({"dataAsset"}, since=since, until=since + timedelta(minutes=4)),
        rate=50,
    )

    assert (report.sent, report.filtered_out) == (2, 4)
    assert sorted(raw["Body"] for raw in drain(subscriber, 2)) == ["m1", "m3"]


def test_a_corrupt_file_sends_nothing_and_names_the_line(captured: Path) -> None:
    target_url = queue("replayed")
    text = captured.read_text().splitlines()
    captured.write_text("\n".join([*text[:3], "{oops", *text[3:5], text[5][:25]]) + "\n")

    with pytest.raises(CaptureFormatError, match=r"capture\.jsonl line 4: not valid JSON"):
        replay(captured, resolve_target("replayed"))
    assert visible(target_url) == 0

    report = replay(captured, resolve_target("replayed"), skip_bad_lines=True)

    assert report.sent == 5 and [bad.line for bad in report.skipped] == [4, 7]
    assert len(drain(target_url, 5)) == 5
    assert len(list(CaptureReader(captured, skip_bad_lines=True))) == 5

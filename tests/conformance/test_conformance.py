"""One end-to-end suite over every emulator backend: what behaves as on AWS, and what not.

Each test is a feature Pylon relies on, run on embedded MiniStack, MiniStack in a
container, real LocalStack (DynamoDB and Lambda on MiniStack beside it) and moto in
server mode. A backend that diverges from AWS is listed in `divergences.py` with the
reason: its test then runs as a strict expected failure. `make conformance` runs the
suite and writes the README's "Backend conformance" table from the outcomes.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from examples.docs_pipeline.lake_writer import read_lake
from harness.cloudformation.deploy import deploy
from harness.cloudformation.export import Target
from harness.messaging.dlq import redrive
from harness.pipeline.activity import queue_depth
from harness.pipeline.local_pipeline import LocalPipeline
from harness.pytest_plugin import EMULATOR_BACKENDS
from harness.spec import spec_from_dict
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from pylon.aws.sns import SnsTopic
from pylon.codec import decode, encode, inbound_from_sqs
from pylon.config import ComponentKind, load_config
from pylon.s3_pointer import S3Location
from tests.conformance.components import POISON
from tests.e2e.test_fifo import reading, seq, two_stages
from tests.interop.extended_client_peer import digest, large_body

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("pylon_backend", EMULATOR_BACKENDS, indirect=True),
]

ROOT = Path(__file__).parents[2]
COMPONENTS = "tests.conformance.components"
Pipeline = Callable[..., LocalPipeline]


def feature(name: str) -> pytest.MarkDecorator:
    return pytest.mark.conformance(name)


def receive_all(url: str, at_least: int = 0, timeout_s: float = 20) -> list[dict[str, Any]]:
    """Every message now in the queue (received and deleted), waiting for `at_least`."""
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
        return len(seen) >= at_least and not batch

    wait_until(enough, timeout_s, describe=lambda: str(seen), what=f"{at_least}+ messages on {url}")
    return seen


# ---------------------------------------------------------------- the example pipeline

EXPECTED_ROWS = {"observed_date=2024-05-01": 16, "observed_date=2024-05-02": 12}


@feature("example pipeline (docs)")
def test_the_example_pipeline_fills_the_lake(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(ROOT / "examples" / "docs_pipeline" / "pipeline.yaml")
    root = pipeline.spec.components["lake-writer"].config["LAKE_S3_PATH"]

    def partitions() -> dict[str, int]:
        files = read_lake(S3Location.parse(str(root)))
        return {key.split("/")[3]: len(records) for key, records in files.items()}

    wait_until(lambda: partitions() == EXPECTED_ROWS, 90, describe=lambda: str(partitions()))


# ---------------------------------------------------------------- SNS delivery


def _delivery_spec(raw: bool) -> dict[str, Any]:
    return {
        "name": "delivery",
        "topics": ["news"],
        "components": {
            "reader": {
                "type": "pipeline",
                "entrypoint": f"{COMPONENTS}:relay",
                "subscribe": [{"topic": "news", "raw": raw}],
            }
        },
    }


@feature("SNS raw delivery")
def test_raw_delivery_keeps_body_and_attributes(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(_delivery_spec(raw=True), run="none")
    pipeline.publish("news", BaseMessage(body="hello", attributes={"channel": "web"}))

    (raw,) = receive_all(pipeline.resources.components["reader"].queue_url or "", 1)

    assert raw["Body"] == "hello"
    assert raw["MessageAttributes"]["channel"]["StringValue"] == "web"
    assert raw["MessageAttributes"]["objectType"]["StringValue"] == "rawContent"


@feature("SNS envelope (non-raw) delivery")
def test_enveloped_delivery_is_unwrapped_by_pylon(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(_delivery_spec(raw=False), run="none")
    pipeline.publish("news", BaseMessage(body="hello", attributes={"channel": "web"}))

    (raw,) = receive_all(pipeline.resources.components["reader"].queue_url or "", 1)

    envelope = json.loads(raw["Body"])
    assert envelope["Type"] == "Notification" and envelope["Message"] == "hello"
    message = decode(inbound_from_sqs(raw), "hello")
    assert message.attributes == {"channel": "web"}
    assert message.objectType is ObjectType.RAW_CONTENT


# ---------------------------------------------------------------- filter policies

FILTERS: dict[str, dict[str, Any]] = {
    "exact": {"filter": {"color": ["red"]}},
    "prefix": {"filter": {"color": [{"prefix": "bl"}]}},
    "numeric range": {"filter": {"size": [{"numeric": [">=", 10, "<", 20]}]}},
    "anything-but": {"filter": {"color": [{"anything-but": ["red"]}]}},
    "exists": {"filter": {"shape": [{"exists": True}]}},
    "body": {
        "filter": {"kind": ["reading"], "value": [{"numeric": [">", 5]}]},
        "filter_scope": "body",
    },
}
# (body, attributes) published, and which filters must let each through.
MESSAGES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("m1", {"color": "red", "size": 5, "shape": "circle"}, {"exact", "exists"}),
    ("m2", {"color": "blue", "size": 15}, {"prefix", "numeric range", "anything-but"}),
    ("m3", {"color": "black", "size": 25}, {"prefix", "anything-but"}),
    ("m4", {"color": "green", "size": 12, "shape": "square"},
     {"numeric range", "anything-but", "exists"}),
    ('{"kind": "reading", "value": 7}', {"color": "red"}, {"exact", "body"}),
    ('{"kind": "reading", "value": 3}', {"color": "red"}, {"exact"}),
    ('{"kind": "other", "value": 9}', {"color": "red"}, {"exact"}),
]  # fmt: skip


def _attributes(values: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        name: {"DataType": "Number", "StringValue": str(value)}
        if isinstance(value, int)
        else {"DataType": "String", "StringValue": value}
        for name, value in values.items()
    }


@pytest.mark.parametrize(
    "kind", [pytest.param(kind, marks=feature(f"filter policy: {kind}")) for kind in FILTERS]
)
def test_filter_policy_lets_through_exactly_what_aws_would(
    pylon_pipeline: Pipeline, kind: str
) -> None:
    subscription = {"topic": "events", **FILTERS[kind]}
    spec = {
        "name": "filters",
        "topics": ["events"],
        "components": {
            "reader": {
                "type": "pipeline",
                "entrypoint": f"{COMPONENTS}:relay",
                "subscribe": [subscription],
            }
        },
    }
    pipeline = pylon_pipeline(spec, run="none")
    sns = boto3.client("sns")
    for body, attributes, _ in MESSAGES:
        sns.publish(
            TopicArn=pipeline.topic_arn("events"),
            Message=body,
            MessageAttributes=_attributes(attributes),
        )

    expected = sorted(body for body, _, kinds in MESSAGES if kind in kinds)
    url = pipeline.resources.components["reader"].queue_url or ""
    received = receive_all(url, len(expected))
    assert sorted(m["Body"] for m in received) == expected


# ---------------------------------------------------------------- S3 payloads

PAYLOAD_SPEC: dict[str, Any] = {
    "name": "payloads",
    "topics": ["inbox"],
    "buckets": ["conformance-payloads"],
    "payloads": {"s3_path": "s3://conformance-payloads/offload/"},
    "components": {
        "enlarge": {
            "type": "pipeline",
            "entrypoint": "tests.interop.extended_client_components:enlarge",
            "subscribe": [{"topic": "inbox", "filter": {"purpose": ["enlarge"]}}],
        },
        "digest": {
            "type": "pipeline",
            "entrypoint": "tests.interop.extended_client_components:digest_payload",
            "subscribe": [{"topic": "inbox", "filter": {"purpose": ["digest"]}}],
        },
    },
}
SIZE = 300_000


@feature("S3 offload of a large output")
def test_a_large_output_is_offloaded_and_read_back(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(PAYLOAD_SPEC)

    pipeline.publish("inbox", BaseMessage(body=str(SIZE), attributes={"purpose": "enlarge"}))

    (reply,) = pipeline.recorder("enlarge-out").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60
    )
    offload_path = str(pipeline.resources.spec.payload_s3_path)
    assert reply.payloadS3Path and reply.payloadS3Path.startswith(offload_path)
    assert reply.body == large_body(SIZE)


@feature("S3 retrieval of a large input")
def test_a_large_input_reaches_the_task_whole(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(PAYLOAD_SPEC)

    pipeline.publish("inbox", BaseMessage(body=large_body(SIZE), attributes={"purpose": "digest"}))

    (reply,) = pipeline.recorder("digest-out").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60
    )
    assert json.loads(str(reply.body)) == digest(large_body(SIZE))


# ---------------------------------------------------------------- failures and leases


def _relay_spec(**component: Any) -> dict[str, Any]:
    return {
        "name": "failures",
        "components": {
            "relay": {
                "type": "pipeline",
                "entrypoint": f"{COMPONENTS}:relay",
                "max_receive_count": 2,
                "visibility_timeout": 1,
                **component,
            }
        },
    }


@feature("partial batch failure (Lambda)")
def test_lambda_reports_only_the_failed_record(pylon_pipeline: Pipeline) -> None:
    # run="processes": deployed into the emulator's Lambda with its event source mapping
    # (the in-process runner would call the handler itself).
    pipeline = pylon_pipeline(_relay_spec(mode="lambda", visibility_timeout=5), run="processes")
    url = pipeline.resources.components["relay"].queue_url or ""
    boto3.client("sqs").send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": str(index),
                "MessageBody": body,
                "MessageAttributes": _attributes({"objectType": "rawContent"}),
            }
            for index, body in enumerate(["first", POISON, "last"])
        ],
    )

    replies = pipeline.recorder("relay-out").wait_for(
        2, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=90
    )
    assert sorted(str(m.body) for m in replies) == ["first", "last"]
    dlq = pipeline.resources.components["relay"].dead_letter_queue_url or ""
    (dead,) = receive_all(dlq, 1, timeout_s=90)
    assert dead["Body"] == POISON


@feature("DLQ after maxReceiveCount")
def test_a_poison_message_moves_to_the_dead_letter_queue(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(_relay_spec())
    component = pipeline.resources.components["relay"]

    pipeline.send("relay", BaseMessage(body=POISON))
    pipeline.send("relay", BaseMessage(body="fine"))

    (dead,) = receive_all(component.dead_letter_queue_url or "", 1, timeout_s=60)
    assert dead["Body"] == POISON
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) >= 2
    (reply,) = pipeline.recorder("relay-out").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert reply.body == "fine"
    wait_until(lambda: queue_depth(component.queue_url or "").total == 0, 30)


@feature("visibility extension of a slow task")
def test_a_task_slower_than_its_lease_is_processed_once(pylon_pipeline: Pipeline) -> None:
    spec = _relay_spec(
        entrypoint=f"{COMPONENTS}:slow_relay",
        visibility_timeout=2,
        max_receive_count=5,
        config={"SLOW_SECONDS": 5, "MAX_MESSAGES": 1},
    )
    pipeline = pylon_pipeline(spec)

    url = pipeline.resources.components["relay"].queue_url or ""
    recorder = pipeline.recorder("relay-out")

    pipeline.send("relay", BaseMessage(body="slow"))

    # While the task runs (5 s, over two 2 s leases) the message must never be visible
    # again: that is what lets a second consumer take it and process it twice.
    wait_until(lambda: queue_depth(url).in_flight == 1, 20, what="the message in hand")
    visible_meanwhile = []

    def replied() -> bool:
        visible_meanwhile.append(queue_depth(url).visible)
        recorder.poll()
        return any(m.objectType is ObjectType.RAW_CONTENT for m in recorder.messages)

    wait_until(replied, 30, interval_s=0.2, what="the reply of the slow task")
    assert max(visible_meanwhile) == 0, f"the lease lapsed: visible counts {visible_meanwhile}"
    wait_until(lambda: queue_depth(url).total == 0, 30, what="the message deleted")


@feature("DLQ redrive")
def test_redrive_sends_dead_letters_back_with_their_attributes(
    pylon_pipeline: Pipeline,
) -> None:
    pipeline = pylon_pipeline(_relay_spec(), run="none")
    component = pipeline.resources.components["relay"]
    url, dlq = component.queue_url or "", component.dead_letter_queue_url or ""
    pipeline.send("relay", BaseMessage(body="lost", attributes={"origin": "test"}))
    sqs = boto3.client("sqs")

    def dead_lettered() -> bool:
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=1)
        return queue_depth(dlq).total == 1

    wait_until(dead_lettered, 30, what="the message moved to the DLQ by maxReceiveCount")
    result = redrive(dlq)

    assert result.count == 1
    (back,) = receive_all(url, 1)
    assert back["Body"] == "lost"
    assert back["MessageAttributes"]["origin"]["StringValue"] == "test"
    assert queue_depth(dlq).total == 0


# ---------------------------------------------------------------- config and lineage


@feature("SSM String and SecureString config")
def test_config_is_read_from_ssm_string_and_securestring(aws_env: Any) -> None:
    ssm = boto3.client("ssm")
    config = {"INPUT_QUEUE_NAME": "q", "GREETING": "hi", "API_TOKEN": "s3cr3t-value"}
    ssm.put_parameter(Name="/conf/plain", Value=json.dumps(config), Type="String")
    ssm.put_parameter(Name="/conf/secret", Value=json.dumps(config), Type="SecureString")

    for name in ("/conf/plain", "/conf/secret"):
        loaded = load_config(ComponentKind.SINK, "reader", environ={"PYLON_CONFIG": name})
        assert (loaded["GREETING"], loaded["API_TOKEN"]) == ("hi", "s3cr3t-value"), name


@feature("lineage records (DynamoDB)")
def test_every_step_is_recorded_in_the_lineage_table(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(ROOT / "examples" / "readme" / "lineage.yaml")

    pipeline.publish("greetings", BaseMessage(body="hi"))

    (echo,) = pipeline.recorder("echoes").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60
    )
    chain = pipeline.lineage().wait_for_chain(str(echo.ingestionId))
    assert chain.artifact_names == ["hello", "echo"]


# ---------------------------------------------------------------- FIFO


@feature("FIFO order per group (two stages)")
def test_fifo_order_per_group_survives_two_stages(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(two_stages())
    wires = [
        dataclasses.replace(encode(reading(group, number)), group_id=group, deduplication_id=f"{group}-{number}")
        for number in range(10)
        for group in ("north", "south")
    ]  # fmt: skip
    SnsTopic(pipeline.topic_arn("readings.fifo"), boto3.client("sns")).publish(wires)

    stored = pipeline.recorder("stored.fifo")
    stored.wait_for(20, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=90)
    groups = stored.assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert {group: [seq(m) for m in messages] for group, messages in groups.items()} == {
        "north": list(range(10)),
        "south": list(range(10)),
    }


@feature("FIFO de-duplication")
def test_fifo_drops_a_repeated_deduplication_id(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(two_stages(), run="none")
    for number, deduplication_id in ((0, "same"), (0, "same"), (1, "other")):
        pipeline.publish("readings.fifo", reading("north", number), "north", deduplication_id)

    received = receive_all(pipeline.resources.components["first"].queue_url or "", 2)

    assert [m["MessageAttributes"]["seq"]["StringValue"] for m in received] == ["0", "1"]


@feature("FIFO group held while a message is in flight")
def test_a_message_in_flight_holds_back_the_rest_of_its_group(pylon_pipeline: Pipeline) -> None:
    pipeline = pylon_pipeline(two_stages(), run="none")
    url = pipeline.resources.components["first"].queue_url or ""
    for group, number in (("a", 0), ("a", 1), ("b", 0)):
        pipeline.send("first", reading(group, number), group_id=group)
    sqs = boto3.client("sqs")

    def receive(count: int) -> list[dict[str, Any]]:
        return list(sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=count, VisibilityTimeout=30,
            MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
        ).get("Messages", []))  # fmt: skip

    (first,) = receive(1)
    assert first["Attributes"]["MessageGroupId"] == "a"
    others = receive(10)  # a/0 in flight: only group b may come
    assert [m["Attributes"]["MessageGroupId"] for m in others] == ["b"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    (then,) = receive(10)
    assert then["MessageAttributes"]["seq"]["StringValue"] == "1"


@feature("FIFO queue refused on a standard topic")
def test_a_fifo_queue_cannot_subscribe_to_a_standard_topic(aws_env: Any) -> None:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    name = f"conformance-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    try:
        with pytest.raises(ClientError):
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
    finally:
        sqs.delete_queue(QueueUrl=url)
        sns.delete_topic(TopicArn=topic)


@feature("FIFO topic from CloudFormation")
def test_the_exported_template_creates_fifo_topics_and_queues(aws_env: Any) -> None:
    spec = spec_from_dict(two_stages(), "fifo").with_prefix(f"c{uuid.uuid4().hex[:6]}-")
    deployed = deploy(spec, Target.ECS, boto3.session.Session())
    sns, sqs = boto3.client("sns"), boto3.client("sqs")

    output = spec.components["first"].output_topic or ""
    topic = sns.get_topic_attributes(TopicArn=deployed.pipeline.topics[output])
    queue = sqs.get_queue_attributes(
        QueueUrl=deployed.pipeline.components["first"].queue_url or "", AttributeNames=["FifoQueue"]
    )

    assert queue["Attributes"].get("FifoQueue") == "true"
    assert topic["Attributes"].get("FifoTopic") == "true"

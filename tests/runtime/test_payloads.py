"""Large payloads through S3: offload on publish, retrieval on receive, extended-client format."""

from __future__ import annotations

import json

import boto3
import pytest

import pylon
from pylon import BaseMessage, DataAsset, ObjectType, PayloadType
from pylon.aws.s3 import S3Store
from pylon.codec import EXTENDED_PAYLOAD_SIZE, LEGACY_PAYLOAD_SIZE, encode, sqs_entry
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import ConfigError
from pylon.payloads import SNS_MAX_MESSAGE_BYTES, PayloadOffloader
from pylon.s3_pointer import (
    LEGACY_POINTER_CLASS,
    POINTER_CLASS,
    PointerFormat,
    S3Location,
    parse_pointer,
    pointer_format,
)
from pylon.wire import WireMessage
from tests.conftest import Wiring


def _big_asset(kib: int) -> DataAsset:
    rows = [{"id": i, "text": "ü" * 500} for i in range(kib)]  # ~1 KiB of UTF-8 per row
    return DataAsset("docs.pages", "NL", rows, dataAssetUniqueKeys=["id"])


@pylon.PipelineComponent
def passthrough(message, config):  # type: ignore[no-untyped-def]
    return pylon.result([message.copy()], {"rows": len(message.body.data)})


def test_several_hundred_kib_round_trip_through_s3(wiring: Wiring) -> None:
    passthrough.configure(wiring.config(ComponentKind.PIPELINE))
    asset = _big_asset(600)
    offloader = PayloadOffloader(S3Store(), f"s3://{wiring.bucket}/inbound/")
    wire = offloader.offload_if_needed(
        encode(BaseMessage(body=asset, objectType=ObjectType.DATA_ASSET))
    )
    assert wire.attributes["payloadType"] == "S3"
    wiring.input_queue.send([wire])

    outcome = passthrough.runOnce()

    assert outcome.failed == []
    raw = wiring.collect_raw(wiring.observer, 2)
    offloaded = next(m for m in raw if m.attributes["objectType"] == "dataAsset")
    kind, pointer = json.loads(offloaded.body)
    assert kind == POINTER_CLASS
    assert (
        offloaded.attributes["payloadS3Path"]
        == f"s3://{pointer['s3BucketName']}/{pointer['s3Key']}"
    )
    assert pointer["s3Key"].startswith("payloads/")
    stored = S3Store().get_text(S3Location(pointer["s3BucketName"], pointer["s3Key"]))
    assert int(offloaded.attributes[EXTENDED_PAYLOAD_SIZE]) == len(stored.encode())
    assert DataAsset.from_json(stored).data[599]["text"] == "ü" * 500
    step = next(m for m in raw if m.attributes["objectType"] == "ingestionStep")
    assert json.loads(step.body)["metadata"] == {"rows": 600}


def test_limit_is_decided_in_utf8_bytes_including_attributes(aws_env: object) -> None:
    boto3.client("s3").create_bucket(Bucket="limits")
    offloader = PayloadOffloader(S3Store(), "s3://limits/p")
    just_fits = encode(BaseMessage(body="x"))
    room = SNS_MAX_MESSAGE_BYTES - just_fits.size_bytes + 1
    fits = encode(BaseMessage(body="x" * room))
    assert fits.size_bytes == SNS_MAX_MESSAGE_BYTES
    assert offloader.offload_if_needed(fits) is fits
    # Same character count, but "é" is two bytes in UTF-8: over the limit.
    over = encode(BaseMessage(body="é" * (room // 2 + 1)))
    assert offloader.offload_if_needed(over).attributes["payloadType"] == "S3"


def test_oversized_output_without_offload_location_is_a_clear_error(aws_env: object) -> None:
    offloader = PayloadOffloader(S3Store(), None)
    with pytest.raises(pylon.PayloadError, match="no OUTPUT_PAYLOAD_S3_PATH is configured"):
        offloader.offload_if_needed(encode(BaseMessage(body="x" * SNS_MAX_MESSAGE_BYTES)))


def test_extended_client_pointer_without_pylon_attributes_is_retrieved(wiring: Wiring) -> None:
    received: list[BaseMessage] = []

    @pylon.SinkComponent
    def sink(message, config):  # type: ignore[no-untyped-def]
        received.append(message)

    sink.configure(wiring.config(ComponentKind.SINK))
    S3Store().put_text(S3Location(wiring.bucket, "ext/123"), "large text from a Java app")
    body = json.dumps([POINTER_CLASS, {"s3BucketName": wiring.bucket, "s3Key": "ext/123"}])
    boto3.client("sqs").send_message(
        QueueUrl=wiring.input_queue.url,
        MessageBody=body,
        MessageAttributes={
            "objectType": {"DataType": "String", "StringValue": "rawContent"},
            EXTENDED_PAYLOAD_SIZE: {"DataType": "Number", "StringValue": "26"},
        },
    )

    sink.runOnce()

    assert [m.body for m in received] == ["large text from a Java app"]


def test_payload_reference_message_is_sent_as_a_pointer(aws_env: object) -> None:
    message = BaseMessage(
        body=None,
        objectType=ObjectType.RAW_CONTENT,
        payloadType=PayloadType.S3,
        payloadS3Path="s3://bucket/key.txt",
    )
    wire = encode(message)
    assert json.loads(wire.body) == [POINTER_CLASS, {"s3BucketName": "bucket", "s3Key": "key.txt"}]
    assert wire.attributes["payloadS3Path"] == "s3://bucket/key.txt"


def test_missing_payload_object_leaves_the_message_in_the_queue(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    passthrough.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = wiring.send(
        BaseMessage(
            body=None,
            objectType=ObjectType.DATA_ASSET,
            payloadType=PayloadType.S3,
            payloadS3Path=f"s3://{wiring.bucket}/gone.json",
        )
    )

    outcome = passthrough.runOnce()

    assert outcome.failed == [message_id]
    assert wiring.visible_input_count() == 1
    assert f"payload s3://{wiring.bucket}/gone.json cannot be retrieved" in caplog.text


@pytest.mark.parametrize(
    ("pointer_class", "expected"),
    [(POINTER_CLASS, PointerFormat.EXTENDED), (LEGACY_POINTER_CLASS, PointerFormat.LEGACY)],
)
def test_both_extended_client_pointer_formats_are_recognised(
    pointer_class: str, expected: PointerFormat
) -> None:
    body = json.dumps([pointer_class, {"s3BucketName": "b", "s3Key": "k/1"}])
    assert parse_pointer(body) == S3Location("b", "k/1")
    assert pointer_format(body) is expected


def test_a_json_array_that_names_another_class_is_not_a_pointer() -> None:
    body = json.dumps(["com.example.NotAPointer", {"s3BucketName": "b", "s3Key": "k"}])
    assert parse_pointer(body) is None


def test_legacy_pointer_format_offloads_with_the_legacy_class_and_size_attribute(
    aws_env: object,
) -> None:
    boto3.client("s3").create_bucket(Bucket="legacy")
    offloader = PayloadOffloader(S3Store(), "s3://legacy/out/", PointerFormat.LEGACY)
    body = "x" * (SNS_MAX_MESSAGE_BYTES + 1)

    wire = offloader.offload_if_needed(encode(BaseMessage(body=body)))

    kind, target = json.loads(wire.body)
    assert kind == LEGACY_POINTER_CLASS
    assert wire.attributes[LEGACY_PAYLOAD_SIZE] == str(len(body))
    assert EXTENDED_PAYLOAD_SIZE not in wire.attributes
    assert S3Store().get_text(S3Location(target["s3BucketName"], target["s3Key"])) == body


def test_the_size_attribute_travels_as_a_number_like_the_extended_clients_write_it() -> None:
    entry = sqs_entry(
        WireMessage("[]", {EXTENDED_PAYLOAD_SIZE: "300000", "objectType": "rawContent"}), "0"
    )
    assert entry["MessageAttributes"][EXTENDED_PAYLOAD_SIZE]["DataType"] == "Number"
    assert entry["MessageAttributes"]["objectType"]["DataType"] == "String"


def test_an_unknown_pointer_format_is_a_config_error_naming_the_key() -> None:
    config = ComponentConfig(ComponentKind.SINK, {"PAYLOAD_POINTER_FORMAT": "java"})
    with pytest.raises(ConfigError, match="PAYLOAD_POINTER_FORMAT must be one of"):
        config.check_settings()

"""The wire codec: attributes, limits, envelopes, Lambda records (pure logic)."""

from __future__ import annotations

import json
import logging

import pytest

from pylon import BaseMessage, DataAsset, MessageDecodeError, ObjectType, PayloadType, TaskError
from pylon.codec import (
    MAX_ATTRIBUTES,
    decode,
    encode,
    inbound_from_lambda_record,
    inbound_from_sqs,
    sns_entry,
)
from pylon.wire import InboundMessage
from tests.conftest import load_event

ASSET = DataAsset("sales.orders", "NL", [{"id": 1}], dataAssetUniqueKeys=["id"])


def _inbound(body: str, **attributes: str) -> InboundMessage:
    return InboundMessage("m-1", "r-1", body, attributes)


def test_metadata_travels_as_string_attributes() -> None:
    wire = encode(BaseMessage(body=ASSET, objectType=ObjectType.DATA_ASSET, ingestionId="i-1"))
    assert wire.attributes == {
        "objectType": "dataAsset",
        "payloadType": "INLINE",
        "payloadMimeType": "application/json",
        "ingestionId": "i-1",
        "dataAssetName": "sales.orders",
        "dataAssetCountry": "NL",
    }
    entry = sns_entry(wire, "0")
    assert entry["MessageAttributes"]["objectType"] == {
        "DataType": "String",
        "StringValue": "dataAsset",
    }
    assert json.loads(entry["Message"])["dataAssetName"] == "sales.orders"


def test_encode_then_decode_round_trips_a_data_asset() -> None:
    wire = encode(BaseMessage(body=ASSET, objectType=ObjectType.DATA_ASSET))
    message = decode(_inbound(wire.body, **wire.attributes), wire.body)
    assert isinstance(message.body, DataAsset)
    assert message.body.data == [{"id": 1}]
    assert message.payloadType is PayloadType.INLINE


def test_user_attributes_travel_beside_pylon_ones() -> None:
    wire = encode(BaseMessage(body="x", attributes={"tenant": "acme"}))
    message = decode(_inbound(wire.body, **wire.attributes), wire.body)
    assert message.attributes == {"tenant": "acme"}


def test_more_than_ten_attributes_is_refused_before_sending() -> None:
    extra = {f"a{i}": "v" for i in range(MAX_ATTRIBUTES)}
    with pytest.raises(TaskError, match="SNS and SQS allow at most 10"):
        encode(BaseMessage(body="x", attributes=extra))


def test_user_attribute_may_not_shadow_a_pylon_attribute() -> None:
    with pytest.raises(TaskError, match=r"\['objectType'\] are Pylon's"):
        encode(BaseMessage(body="x", attributes={"objectType": "dataAsset"}))


def test_text_body_with_a_json_object_type_must_parse_as_that_type() -> None:
    with pytest.raises(TaskError, match="needs a DataAsset body"):
        encode(BaseMessage(body="Hello pylon!", objectType=ObjectType.DATA_ASSET))


def test_none_body_travels_as_json_null() -> None:
    wire = encode(BaseMessage(body=None, objectType=ObjectType.NULL))
    assert wire.body == "null"
    assert decode(_inbound(wire.body, **wire.attributes), wire.body).body is None


def test_size_counts_utf8_bytes_of_body_and_attributes() -> None:
    wire = encode(BaseMessage(body="é" * 10))
    attribute_bytes = sum(len(k) + len("String") + len(v) for k, v in wire.attributes.items())
    assert wire.size_bytes == 20 + attribute_bytes


def test_sqs_message_attributes_are_read() -> None:
    raw = {
        "MessageId": "m",
        "ReceiptHandle": "r",
        "Body": "b",
        "Attributes": {"ApproximateReceiveCount": "3"},
        "MessageAttributes": {"objectType": {"DataType": "String", "StringValue": "rawContent"}},
    }
    inbound = inbound_from_sqs(raw)  # type: ignore[arg-type]
    assert inbound.attributes == {"objectType": "rawContent"}
    assert inbound.receive_count == 3


@pytest.mark.parametrize("binary_first", [True, False], ids=["binary-first", "binary-last"])
def test_binary_attributes_are_left_out_and_string_ones_kept(binary_first: bool) -> None:
    binary = {"thumbnail": {"DataType": "Binary", "BinaryValue": b"\x89PNG"}}
    string = {
        "objectType": {"DataType": "String", "StringValue": "rawContent"},
        "colour": {"DataType": "String", "StringValue": "blue"},
    }
    attributes = {**binary, **string} if binary_first else {**string, **binary}
    raw = {"MessageId": "m", "ReceiptHandle": "r", "Body": "b", "MessageAttributes": attributes}

    inbound = inbound_from_sqs(raw)  # type: ignore[arg-type]

    assert inbound.attributes == {"objectType": "rawContent", "colour": "blue"}


def test_lambda_records_use_lowercase_string_value() -> None:
    record = load_event("sqs_event.json")["Records"][0]
    inbound = inbound_from_lambda_record(record)
    assert inbound.attributes == {"objectType": "rawContent", "ingestionId": "parent-1"}
    assert inbound.message_id == "059f36b4-87a3-44ab-83d2-661975830a7d"


def test_a_malformed_lambda_record_is_a_decode_error() -> None:
    with pytest.raises(MessageDecodeError, match="Lambda SQS record is malformed"):
        inbound_from_lambda_record({"messageId": "x"})  # type: ignore[typeddict-item]


def test_non_raw_sns_envelope_is_unwrapped_and_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = json.dumps(load_event("sns_envelope_body.json"))
    raw = {"MessageId": "m", "ReceiptHandle": "r", "Body": body}
    with caplog.at_level(logging.WARNING, logger="pylon.codec"):
        first = inbound_from_sqs(raw)  # type: ignore[arg-type]
        inbound_from_sqs(raw)  # type: ignore[arg-type]
    assert first.attributes == {"objectType": "dataAsset", "ingestionId": "parent-9"}
    message = decode(first, first.body)
    assert isinstance(message.body, DataAsset)
    warnings = [r for r in caplog.records if "RawMessageDelivery" in r.getMessage()]
    assert len(warnings) == 1


def test_a_message_with_pylons_attributes_is_a_raw_delivery_whatever_its_body() -> None:
    body = json.dumps(load_event("sns_envelope_body.json"))  # an envelope, sent as a body
    attributes = {"objectType": {"DataType": "String", "StringValue": "rawContent"}}
    raw = {"MessageId": "m", "ReceiptHandle": "r", "Body": body, "MessageAttributes": attributes}
    inbound = inbound_from_sqs(raw)  # type: ignore[arg-type]
    assert (inbound.body, inbound.attributes) == (body, {"objectType": "rawContent"})


def test_a_body_that_merely_mentions_notification_is_not_unwrapped() -> None:
    body = json.dumps({"Type": "Notification", "note": "no TopicArn here"})
    raw = {"MessageId": "m", "ReceiptHandle": "r", "Body": body}
    assert inbound_from_sqs(raw).body == body  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attributes", "body", "expected"),
    [
        ({}, "x", "attribute 'objectType' is missing"),
        ({"objectType": "spreadsheet"}, "x", "objectType='spreadsheet' is not one of"),
        (
            {"objectType": "rawContent", "payloadType": "FTP"},
            "x",
            "payloadType='FTP' is not one of",
        ),
        ({"objectType": "dataAsset"}, "{not json", "body is not valid JSON"),
        ({"objectType": "dataAsset"}, '{"dataAssetName": "a.b"}', "dataAssetCountry: required"),
        ({"objectType": "dataAsset", "payloadMimeType": "text/csv"}, "{}", "needs a JSON body"),
        ({"objectType": "ingestionStep"}, "[]", "expected a JSON object, got list"),
    ],
)
def test_bad_input_is_a_decode_error_naming_the_message_and_problem(
    attributes: dict[str, str], body: str, expected: str
) -> None:
    with pytest.raises(MessageDecodeError, match="message m-1") as caught:
        decode(_inbound(body, **attributes), body)
    assert expected in str(caught.value)

"""Fuzzing the inbound path: whatever arrives, decoding returns or raises a PylonError.

A component must turn any message into either a decoded message or a clear error it can
log with the message id (the message then stays in the queue); any other exception
would be a crash with a traceback. Hypothesis generates bodies, attributes, SNS
envelopes, extended-client pointers and whole Lambda records.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylon.codec import RESERVED_ATTRIBUTES, decode, inbound_from_lambda_record, inbound_from_sqs
from pylon.errors import PayloadError, PylonError
from pylon.models.messages import ObjectType, PayloadType
from pylon.payloads import resolve_body
from pylon.s3_pointer import POINTER_CLASS, S3Location, parse_pointer
from pylon.wire import InboundMessage

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
attribute_names = st.sampled_from(sorted(RESERVED_ATTRIBUTES)) | st.text(min_size=1, max_size=12)
attribute_values = (
    st.sampled_from([t.value for t in ObjectType] + [t.value for t in PayloadType])
    | st.sampled_from(["application/json", "text/csv", "s3://bucket/key", "s3://", "x"])
    | st.text(max_size=30)
)
attributes = st.dictionaries(attribute_names, attribute_values, max_size=8)


def json_text(value: Any) -> str:
    return json.dumps(value)


bodies = (
    st.text(max_size=200)
    | json_values.map(json_text)
    | st.fixed_dictionaries(
        {"Type": st.just("Notification"), "TopicArn": st.text(max_size=10)},
        optional={"Message": json_values, "MessageAttributes": json_values},
    ).map(json_text)
    | json_values.map(lambda target: json_text([POINTER_CLASS, target]))
    | st.builds(lambda body: f"[{body}", st.text(max_size=50))
)


def returns_or_raises_pylon_error(action: Any, *args: Any) -> None:
    """Anything but a PylonError escapes and fails the test."""
    with contextlib.suppress(PylonError):
        action(*args)


class FakeS3:
    """Stands in for S3Store: the fuzzing is about parsing, not about fetching."""

    def get_text(self, location: S3Location) -> str:
        if not location.bucket:
            raise PayloadError("no bucket")
        return "payload"


@FUZZ
@given(
    body=bodies,
    message_attributes=st.dictionaries(
        attribute_names,
        st.fixed_dictionaries(
            {"DataType": st.sampled_from(["String", "Number", "Binary", "x"])},
            optional={"StringValue": st.text(max_size=20), "BinaryValue": st.binary(max_size=8)},
        ),
        max_size=8,
    ),
    receive_count=st.text(max_size=5) | st.integers().map(str),
)
def test_sqs_messages_decode_or_fail_with_a_pylon_error(
    body: str, message_attributes: dict[str, Any], receive_count: str
) -> None:
    raw: Any = {
        "MessageId": "m-1",
        "ReceiptHandle": "h-1",
        "Body": body,
        "Attributes": {"ApproximateReceiveCount": receive_count},
        "MessageAttributes": message_attributes,
    }

    def decode_all() -> None:
        inbound = inbound_from_sqs(raw)
        decode(inbound, resolve_body(inbound, FakeS3()))  # type: ignore[arg-type]

    returns_or_raises_pylon_error(decode_all)


@FUZZ
@given(
    record=st.dictionaries(
        st.sampled_from(
            ["messageId", "receiptHandle", "body", "attributes", "messageAttributes", "eventSource"]
        ),
        json_values,
    )
    | json_values,
)
def test_lambda_records_of_any_shape_decode_or_fail_with_a_pylon_error(record: Any) -> None:
    returns_or_raises_pylon_error(inbound_from_lambda_record, record)


@FUZZ
@given(attributes=attributes, body=bodies)
def test_any_attributes_and_body_decode_or_fail_with_a_pylon_error(
    attributes: dict[str, str], body: str
) -> None:
    inbound = InboundMessage("m-1", "h-1", body, attributes)

    def decode_all() -> None:
        decode(inbound, resolve_body(inbound, FakeS3()))  # type: ignore[arg-type]

    returns_or_raises_pylon_error(decode_all)


@FUZZ
@given(object_type=st.sampled_from(list(ObjectType)), value=json_values)
def test_json_bodies_of_every_object_type_decode_or_fail_with_a_pylon_error(
    object_type: ObjectType, value: Any
) -> None:
    inbound = InboundMessage("m-1", "h-1", json.dumps(value), {"objectType": object_type.value})
    returns_or_raises_pylon_error(decode, inbound, inbound.body)


@FUZZ
@given(body=bodies)
def test_pointer_bodies_parse_or_fail_with_a_pylon_error(body: str) -> None:
    returns_or_raises_pylon_error(parse_pointer, body)


def test_deeply_nested_json_is_a_pylon_error_not_a_recursion_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for attributes in ({"objectType": "dataAsset"}, {"objectType": "rawContent"}):
        inbound = InboundMessage("m-1", "h-1", deep, attributes)
        returns_or_raises_pylon_error(decode, inbound, deep)
    returns_or_raises_pylon_error(parse_pointer, f'["{POINTER_CLASS}",' + deep + "]")
    envelope = '{"Type": "Notification", "TopicArn": "t", "Message": ' + deep + "}"
    raw: Any = {"MessageId": "m", "ReceiptHandle": "h", "Body": envelope}
    returns_or_raises_pylon_error(inbound_from_sqs, raw)

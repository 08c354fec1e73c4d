"""The wire codec: `BaseMessage` <-> message body + String message attributes.

Metadata travels as String attributes so SNS filter policies on `objectType` work; the
body is the payload text. The same attributes come back from an SQS poll, a raw SNS->SQS
delivery, a Lambda SQS record (lowercase `stringValue`) or, when a subscription is
mistakenly not raw, from inside the SNS JSON envelope.
"""

from __future__ import annotations

import functools
import json
import logging
from enum import Enum
from typing import Any

from pylon.errors import MessageDecodeError, TaskError, ValidationError
from pylon.interfaces.serializing import JsonSerializable
from pylon.models.data_asset import DataAsset
from pylon.models.ingestion_step import IngestionStep
from pylon.models.lambda_event import LambdaEvent
from pylon.models.messages import BaseMessage, ObjectType, PayloadType
from pylon.models.update_notification import UpdateNotification
from pylon.models.url_resource import UrlResource
from pylon.s3_pointer import SIZE_ATTRIBUTES, PointerFormat, pointer_body
from pylon.wire import InboundMessage, LambdaSqsRecord, SqsMessage, WireMessage

logger = logging.getLogger(__name__)

# SNS and SQS both reject a message with more than 10 message attributes.
MAX_ATTRIBUTES = 10

# Pylon's own attribute names, in the order they are written.
PYLON_ATTRIBUTES = (
    "objectType",
    "payloadType",
    "payloadMimeType",
    "ingestionId",
    "payloadS3Path",
    "dataAssetName",
    "dataAssetCountry",
)
# Written by the payload offloader (and by the AWS extended clients), as Number attributes.
EXTENDED_PAYLOAD_SIZE = SIZE_ATTRIBUTES[PointerFormat.EXTENDED]
LEGACY_PAYLOAD_SIZE = SIZE_ATTRIBUTES[PointerFormat.LEGACY]
NUMBER_ATTRIBUTES = frozenset((EXTENDED_PAYLOAD_SIZE, LEGACY_PAYLOAD_SIZE))
RESERVED_ATTRIBUTES = frozenset((*PYLON_ATTRIBUTES, EXTENDED_PAYLOAD_SIZE, LEGACY_PAYLOAD_SIZE))

BODY_TYPES: dict[ObjectType, type[JsonSerializable]] = {
    ObjectType.DATA_ASSET: DataAsset,
    ObjectType.INGESTION_STEP: IngestionStep,
    ObjectType.URL_RESOURCE: UrlResource,
    ObjectType.UPDATE_NOTIFICATION: UpdateNotification,
    ObjectType.LAMBDA_EVENT: LambdaEvent,
}
_INLINE = PayloadType.INLINE.value
_OBJECT_TYPES = {object_type.value: object_type for object_type in ObjectType}
_PAYLOAD_TYPES = {payload_type.value: payload_type for payload_type in PayloadType}
# An empty body is not allowed by SQS/SNS, so "no body" travels as the JSON literal null.
NULL_BODY = "null"

_warned_envelopes: set[str] = set()


# ---------------------------------------------------------------- inbound


def inbound_from_sqs(raw: SqsMessage) -> InboundMessage:
    """Normalise a boto3 ReceiveMessage entry (unwrapping a non-raw SNS envelope)."""
    where = f"message {raw['MessageId']}"
    attributes = _string_attributes(raw.get("MessageAttributes"), "StringValue", where)
    system = raw.get("Attributes")
    receive_count = _receive_count(system, where)
    return _unwrap_envelope(
        InboundMessage(
            raw["MessageId"],
            raw["ReceiptHandle"],
            raw["Body"],
            attributes,
            receive_count,
            message_group_of(system),
        )
    )


def inbound_from_lambda_record(record: LambdaSqsRecord) -> InboundMessage:
    """Normalise a Lambda SQS event record, whose attribute keys are lowercase."""
    if not isinstance(record, dict):
        raise MessageDecodeError(f"Lambda SQS record is a {type(record).__name__}, not an object")
    message_id, receipt_handle, body = (
        record.get("messageId"),
        record.get("receiptHandle"),
        record.get("body"),
    )
    if not (
        isinstance(message_id, str) and isinstance(receipt_handle, str) and isinstance(body, str)
    ):
        raise MessageDecodeError(
            "Lambda SQS record is malformed: messageId, receiptHandle and body must be strings"
        )
    message_id, receipt_handle, body = str(message_id), str(receipt_handle), str(body)
    where = f"Lambda SQS record {message_id}"
    attributes = _string_attributes(record.get("messageAttributes"), "stringValue", where)
    system = record.get("attributes")
    receive_count = _receive_count(system, where)
    return _unwrap_envelope(
        InboundMessage(
            message_id, receipt_handle, body, attributes, receive_count, message_group_of(system)
        )
    )


def _string_attributes(raw: object, value_key: str, where: str) -> dict[str, str]:
    """The String-typed attributes (Binary ones are not Pylon's); raise if malformed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MessageDecodeError(f"{where}: message attributes are a {type(raw).__name__}")
    attributes = {}
    for name, value in raw.items():  # the usual shape: every attribute a String one
        text = value.get(value_key) if type(value) is dict else None
        if type(text) is not str or type(name) is not str:
            return _every_string_attribute(raw, value_key, where)
        attributes[name] = text
    return attributes


def _every_string_attribute(raw: dict[Any, Any], value_key: str, where: str) -> dict[str, str]:
    """`_string_attributes` of any other shape: Binary attributes left out, the malformed
    named."""
    attributes = {}
    for name, value in raw.items():
        if not isinstance(value, dict):
            raise MessageDecodeError(f"{where}: message attribute {name!r} is not an object")
        text = value.get(value_key)
        if text is not None and not isinstance(text, str):
            raise MessageDecodeError(f"{where}: message attribute {name!r} has a non-text value")
        if text is not None:
            attributes[str(name)] = text
    return attributes


def _receive_count(system_attributes: object, where: str) -> int:
    raw = "1"
    if isinstance(system_attributes, dict):
        raw = system_attributes.get("ApproximateReceiveCount", "1")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise MessageDecodeError(
            f"{where}: ApproximateReceiveCount {str(raw)[:20]!r} is not a number"
        ) from None


def message_group_of(system_attributes: object) -> str | None:
    """MessageGroupId, which SQS returns (as a system attribute) only for FIFO queues."""
    if not isinstance(system_attributes, dict):
        return None
    group = system_attributes.get("MessageGroupId")
    return group if isinstance(group, str) and group else None


def _unwrap_envelope(inbound: InboundMessage) -> InboundMessage:
    """Undo a non-raw SNS->SQS delivery: the real body and attributes are inside."""
    if "objectType" in inbound.attributes:
        # Pylon's attributes on the SQS message itself: a raw delivery (a non-raw one
        # carries every attribute inside the envelope), so the body is not searched.
        return inbound
    envelope = sns_envelope(inbound.body)
    if envelope is None:
        return inbound
    topic = str(envelope.get("TopicArn"))
    if topic not in _warned_envelopes:
        _warned_envelopes.add(topic)
        logger.warning(
            "message %s arrived in an SNS envelope from %s: the subscription is not using raw "
            "message delivery; unwrapping it (set RawMessageDelivery=true to fix)",
            inbound.message_id,
            topic,
        )
    where = f"message {inbound.message_id} (SNS envelope)"
    message = envelope["Message"]
    if not isinstance(message, str):
        raise MessageDecodeError(f"{where}: Message is a {type(message).__name__}, not text")
    return InboundMessage(
        inbound.message_id,
        inbound.receipt_handle,
        message,
        _envelope_attributes(envelope.get("MessageAttributes"), where),
        inbound.receive_count,
        inbound.group_id,
    )


def _envelope_attributes(raw: object, where: str) -> dict[str, str]:
    """SNS envelope attributes are `{"Type": "String", "Value": ...}`; only String ones count."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MessageDecodeError(f"{where}: MessageAttributes are a {type(raw).__name__}")
    return {
        str(name): value["Value"]
        for name, value in raw.items()
        if isinstance(value, dict)
        and value.get("Type") == "String"
        and isinstance(value.get("Value"), str)
    }


def sns_envelope(body: str) -> dict[str, Any] | None:
    """The parsed SNS JSON envelope when `body` is one (a non-raw delivery), else None."""
    if not body.startswith("{") or '"Notification"' not in body:
        return None
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        return None
    is_envelope = (
        isinstance(data, dict)
        and data.get("Type") == "Notification"
        and "TopicArn" in data
        and "Message" in data
    )
    return data if is_envelope else None


# ---------------------------------------------------------------- decode


def decode(inbound: InboundMessage, body_text: str) -> BaseMessage:
    """Build the BaseMessage from attributes and the (already resolved) payload text."""
    where = f"message {inbound.message_id}"
    attrs = inbound.attributes
    object_type = _OBJECT_TYPES.get(attrs.get("objectType", ""))
    if object_type is None:
        raise _bad_object_type(attrs, where)
    payload_type = _PAYLOAD_TYPES.get(attrs.get("payloadType", _INLINE))
    if payload_type is None:
        raise _not_one_of(attrs, "payloadType", PayloadType, where)
    body = decode_body(object_type, body_text, attrs.get("payloadMimeType"), where)
    return BaseMessage(
        body=body,
        objectType=object_type,
        payloadType=payload_type,
        payloadMimeType=attrs.get("payloadMimeType"),
        ingestionId=attrs.get("ingestionId"),
        payloadS3Path=attrs.get("payloadS3Path"),
        dataAssetName=attrs.get("dataAssetName"),
        dataAssetCountry=attrs.get("dataAssetCountry"),
        attributes=(
            {}  # the usual case: only Pylon's own attributes
            if attrs.keys() <= RESERVED_ATTRIBUTES
            else {k: v for k, v in attrs.items() if k not in RESERVED_ATTRIBUTES}
        ),
        messageId=inbound.message_id,
        receiveCount=inbound.receive_count,
    )


def decode_body(
    object_type: ObjectType, text: str, mime_type: str | None, where: str
) -> str | JsonSerializable | None:
    """Turn payload text into the body object its objectType promises."""
    if object_type is ObjectType.NULL:
        return None
    body_type = BODY_TYPES.get(object_type)
    if body_type is None:
        return text
    if mime_type and not _is_json_mime(mime_type):
        raise MessageDecodeError(
            f"{where}: objectType={object_type.value} needs a JSON body, "
            f"but payloadMimeType is {mime_type!r}"
        )
    try:
        return body_type.from_json(text, f"{where} body ({body_type.__name__})")
    except ValidationError as exc:
        raise MessageDecodeError(str(exc)) from None


def _bad_object_type(attrs: dict[str, str], where: str) -> MessageDecodeError:
    """Why `attrs` carry no objectType Pylon knows: it is missing, or not one of them."""
    if "objectType" not in attrs:
        return MessageDecodeError(
            f"{where}: message attribute 'objectType' is missing (expected one of "
            f"{[t.value for t in ObjectType]}); was it sent without Pylon's attributes?"
        )
    return _not_one_of(attrs, "objectType", ObjectType, where)


def _not_one_of(
    attrs: dict[str, str], name: str, enum: type[Enum], where: str
) -> MessageDecodeError:
    allowed = [member.value for member in enum]
    return MessageDecodeError(
        f"{where}: message attribute {name}={attrs[name]!r} is not one of {allowed}"
    )


@functools.lru_cache(maxsize=64)  # a pipeline sees a handful of MIME types, every message
def _is_json_mime(mime_type: str) -> bool:
    base = mime_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


# ---------------------------------------------------------------- encode


def encode(message: BaseMessage, where: str = "output message") -> WireMessage:
    """Encode an outgoing message; raises TaskError naming what the task got wrong."""
    if message.payloadType is PayloadType.S3 and message.body is None and message.payloadS3Path:
        return _encode_reference(message, where)
    body = _body_text(message, where)
    return WireMessage(body, _attributes(message, where, _INLINE, None))


def _encode_reference(message: BaseMessage, where: str) -> WireMessage:
    """A message whose payload already sits in S3: send only the pointer."""
    attributes = _attributes(
        message, where, message.payloadType._value_, message.payloadS3Path
    )
    return WireMessage(pointer_body(str(message.payloadS3Path)), attributes)


def _body_text(message: BaseMessage, where: str) -> str:
    body = message.body
    if body is None:
        return NULL_BODY
    if isinstance(body, JsonSerializable):
        return body.to_json()
    if not isinstance(body, str):
        raise TaskError(
            f"{where}: body must be a str or a JsonSerializable, got {type(body).__name__}"
        )
    body_type = BODY_TYPES.get(message.objectType)
    if body_type is not None:
        _check_json_text(body, body_type, message.objectType, where)
    if body == "":
        raise TaskError(f"{where}: body is empty; SNS/SQS reject empty messages (use None)")
    return body


def _check_json_text(
    body: str, body_type: type[JsonSerializable], object_type: ObjectType, where: str
) -> None:
    try:
        body_type.from_json(body, f"{where} body")
    except ValidationError as exc:
        raise TaskError(
            f"{exc}; objectType={object_type.value} needs a {body_type.__name__} body "
            f"(or set objectType=ObjectType.RAW_CONTENT for plain text)"
        ) from None


def _attributes(
    message: BaseMessage, where: str, payload_type: str, payload_s3_path: str | None
) -> dict[str, str]:
    """Pylon's attributes in PYLON_ATTRIBUTES' order (the empty ones left out), then the
    task's own."""
    attributes = {
        # `_value_`: the member's value as a plain attribute (`.value` is a descriptor).
        "objectType": message.objectType._value_,
        "payloadType": payload_type,
        "payloadMimeType": message.mime_type,
    }
    if message.ingestionId:
        attributes["ingestionId"] = message.ingestionId
    if payload_s3_path:
        attributes["payloadS3Path"] = payload_s3_path
    body = message.body
    asset = body if isinstance(body, DataAsset) else None
    asset_name = message.dataAssetName or (asset and asset.dataAssetName)
    if asset_name:
        attributes["dataAssetName"] = asset_name
    asset_country = message.dataAssetCountry or (asset and asset.dataAssetCountry)
    if asset_country:
        attributes["dataAssetCountry"] = asset_country
    if message.attributes:
        clashing = sorted(RESERVED_ATTRIBUTES & message.attributes.keys())
        if clashing:
            raise TaskError(
                f"{where}: attributes {clashing} are Pylon's; set the message fields instead"
            )
        attributes.update({k: v for k, v in message.attributes.items() if v})
        check_attribute_count(attributes, where)
    _check_texts(attributes, where)
    return attributes


def _check_texts(attributes: dict[str, str], where: str) -> None:
    """Every value is a str: the runtime's clients send what Pylon built without botocore
    checking it again (`new_client(assembled=True)`), so a task's number must stop here."""
    for name, value in attributes.items():
        if not isinstance(value, str):
            raise TaskError(
                f"{where}: message attribute {name!r} must be a str, got {type(value).__name__}"
            )


def check_attribute_count(attributes: dict[str, str], where: str) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise TaskError(
            f"{where}: {len(attributes)} message attributes ({sorted(attributes)}); "
            f"SNS and SQS allow at most {MAX_ATTRIBUTES}"
        )


# ---------------------------------------------------------------- batch entries


def sns_entry(wire: WireMessage, entry_id: str) -> dict[str, Any]:
    """A PublishBatch entry."""
    entry = {"Id": entry_id, "Message": wire.body, "MessageAttributes": _wire_attributes(wire)}
    _add_fifo_fields(entry, wire)
    return entry


def sqs_entry(wire: WireMessage, entry_id: str) -> dict[str, Any]:
    """A SendMessageBatch entry."""
    entry = {"Id": entry_id, "MessageBody": wire.body, "MessageAttributes": _wire_attributes(wire)}
    _add_fifo_fields(entry, wire)
    return entry


def _add_fifo_fields(entry: dict[str, Any], wire: WireMessage) -> None:
    """MessageGroupId/MessageDeduplicationId: AWS refuses them on standard topics and queues."""
    if wire.group_id is not None:
        entry["MessageGroupId"] = wire.group_id
    if wire.deduplication_id is not None:
        entry["MessageDeduplicationId"] = wire.deduplication_id


def _wire_attributes(wire: WireMessage) -> dict[str, dict[str, str]]:
    # The extended clients write the payload size as a Number; so does Pylon.
    return {
        name: {"DataType": "Number" if name in NUMBER_ATTRIBUTES else "String", "StringValue": v}
        for name, v in wire.attributes.items()
    }

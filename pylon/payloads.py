"""Large payloads in S3: automatic retrieval on the way in, offload on the way out.

The decision is made in UTF-8 bytes, body plus attributes, against SNS's 256 KiB limit:
SQS accepts 1 MiB now, but SNS is the binding limit on the SNS->SQS path. Offloaded
messages carry Pylon's `payloadType=S3`/`payloadS3Path` attributes AND the extended
client's pointer body and size attribute, so they interoperate both ways; inputs in either
of the extended clients' pointer formats (current and legacy) are resolved.
"""

from __future__ import annotations

import uuid

from pylon.aws.s3 import S3Store
from pylon.codec import check_attribute_count
from pylon.errors import PayloadError
from pylon.execution import Execution
from pylon.hooks import Hook
from pylon.models.messages import JSON_MIME_TYPE, PayloadType
from pylon.s3_pointer import (
    SIZE_ATTRIBUTES,
    PointerFormat,
    S3Location,
    parse_pointer,
    pointer_body,
)
from pylon.wire import InboundMessage, WireMessage

SNS_MAX_MESSAGE_BYTES = 256 * 1024


def resolve_body(inbound: InboundMessage, s3: S3Store) -> str:
    """The payload text: the body itself, or the S3 object it points at."""
    location = payload_location(inbound)
    if location is None:
        return inbound.body
    try:
        return s3.get_text(location)
    except PayloadError as exc:
        raise PayloadError(
            f"message {inbound.message_id}: payload {location.uri} cannot be retrieved ({exc})"
        ) from None


def payload_location(inbound: InboundMessage) -> S3Location | None:
    """Where an offloaded payload lives (pointer body or payloadS3Path), or None if inline."""
    pointer = parse_pointer(inbound.body)
    if pointer is not None:
        return pointer
    if inbound.attributes.get("payloadType") != PayloadType.S3:  # a StrEnum: equal to its text
        return None
    path = inbound.attributes.get("payloadS3Path")
    if not path:
        raise PayloadError(
            f"message {inbound.message_id}: payloadType is S3 but payloadS3Path is missing "
            "and the body is not an S3 pointer"
        )
    return S3Location.parse(path, f"message {inbound.message_id} payloadS3Path")


class PayloadOffloader:
    """Moves bodies over the limit to `location` (an s3://bucket/prefix), pointing at them
    in `pointer_format` (the extended clients' current one unless told otherwise)."""

    def __init__(
        self,
        s3: S3Store,
        location: str | None,
        pointer_format: PointerFormat = PointerFormat.EXTENDED,
    ) -> None:
        self._s3 = s3
        self._location = S3Location.parse(location, "OUTPUT_PAYLOAD_S3_PATH") if location else None
        self._format = pointer_format

    def offload_if_needed(self, wire: WireMessage) -> WireMessage:
        size = wire.size_bytes
        if size <= SNS_MAX_MESSAGE_BYTES:
            return wire
        if self._location is None:
            raise PayloadError(
                f"output message is {size} bytes (body plus attributes), over SNS's "
                f"{SNS_MAX_MESSAGE_BYTES}-byte limit, and no OUTPUT_PAYLOAD_S3_PATH is "
                "configured to offload it to; set it in PYLON_CONFIG"
            )
        return self._offload(wire)

    def _offload(self, wire: WireMessage) -> WireMessage:
        assert self._location is not None
        target = self._location.child(str(uuid.uuid4()))
        mime_type = wire.attributes.get("payloadMimeType", JSON_MIME_TYPE)
        body_bytes = wire.body.encode("utf-8")
        self._s3.put_bytes(target, body_bytes, mime_type)
        attributes = {
            **wire.attributes,
            "payloadType": PayloadType.S3.value,
            "payloadS3Path": target.uri,
            SIZE_ATTRIBUTES[self._format]: str(len(body_bytes)),
        }
        check_attribute_count(attributes, "offloaded output message")
        return WireMessage(pointer_body(target.uri, self._format), attributes)


class PayloadOffloadHook(Hook):
    def __init__(self, offloader: PayloadOffloader) -> None:
        self._offloader = offloader

    def before_publish(self, execution: Execution) -> None:
        execution.wires = [self._offloader.offload_if_needed(w) for w in execution.wires]

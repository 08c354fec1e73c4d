"""`BaseMessage`: what a component receives and returns, independent of the wire.

Field names are the seed's camelCase names because they are also the SQS/SNS message
attribute names other components (and SNS filter policies) rely on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from pylon.interfaces.serializing import JsonSerializable

Body = str | JsonSerializable | None


class PayloadType(StrEnum):
    """Where the payload lives: in the message body, or in S3 (`payloadS3Path`)."""

    INLINE = "INLINE"
    S3 = "S3"


class ObjectType(StrEnum):
    """What the body is; travels as the `objectType` attribute that filter policies use."""

    DATA_ASSET = "dataAsset"
    INGESTION_STEP = "ingestionStep"
    URL_RESOURCE = "urlResource"
    UPDATE_NOTIFICATION = "updateNotification"
    RAW_CONTENT = "rawContent"
    NULL = "null"
    LAMBDA_EVENT = "lambdaEvent"


JSON_MIME_TYPE = "application/json"
TEXT_MIME_TYPE = "text/plain"


@dataclass
class BaseMessage:
    """One message on a Pylon queue or topic.

    `messageId` and `receiveCount` are set on received messages only; they are read-only
    facts about the delivery, not attributes that travel onwards.
    """

    body: Body = None
    objectType: ObjectType = ObjectType.RAW_CONTENT
    payloadType: PayloadType = PayloadType.INLINE
    payloadMimeType: str | None = None
    ingestionId: str | None = None
    payloadS3Path: str | None = None
    dataAssetName: str | None = None
    dataAssetCountry: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    messageId: str | None = None
    receiveCount: int = 0

    @property
    def mime_type(self) -> str:
        """The declared MIME type, or the natural one for the body."""
        if self.payloadMimeType:
            return self.payloadMimeType
        return JSON_MIME_TYPE if isinstance(self.body, JsonSerializable) else TEXT_MIME_TYPE

    def copy(self, **changes: object) -> BaseMessage:
        """A new outgoing message based on this one (delivery facts cleared)."""
        cleared: dict[str, object] = {"messageId": None, "receiveCount": 0}
        cleared.update(changes)
        return dataclasses.replace(self, **cleared)  # type: ignore[arg-type]

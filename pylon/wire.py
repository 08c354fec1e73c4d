"""Wire shapes: what AWS hands us and what we hand back, as TypedDicts.

These are the exact JSON/dict shapes of the AWS APIs (boto3 responses and Lambda
events), kept separate from Pylon's own models so the codec is the only place that
translates between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired, TypedDict


class SqsAttributeValue(TypedDict):
    """A message attribute as boto3's SQS ReceiveMessage returns it."""

    DataType: str
    StringValue: NotRequired[str]
    BinaryValue: NotRequired[bytes]


class SqsMessage(TypedDict):
    """One message of an SQS ReceiveMessage response."""

    MessageId: str
    ReceiptHandle: str
    Body: str
    Attributes: NotRequired[dict[str, str]]
    MessageAttributes: NotRequired[dict[str, SqsAttributeValue]]


class LambdaAttributeValue(TypedDict):
    """A message attribute inside a Lambda SQS event record (lowercase keys)."""

    dataType: str
    stringValue: NotRequired[str]
    binaryValue: NotRequired[str]


class LambdaSqsRecord(TypedDict):
    """One record of the event Lambda's SQS event source mapping delivers."""

    messageId: str
    receiptHandle: str
    body: str
    attributes: NotRequired[dict[str, str]]
    messageAttributes: NotRequired[dict[str, LambdaAttributeValue]]
    eventSource: NotRequired[str]
    eventSourceARN: NotRequired[str]
    awsRegion: NotRequired[str]
    md5OfBody: NotRequired[str]


class LambdaSqsEvent(TypedDict):
    Records: list[LambdaSqsRecord]


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    """Lambda's partial batch response (needs ReportBatchItemFailures on the mapping)."""

    batchItemFailures: list[BatchItemFailure]


@dataclass(frozen=True)
class InboundMessage:
    """A received message, whatever it came through (SQS poll, Lambda record)."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    receive_count: int = 1
    # Set only for messages from a FIFO queue: the group AWS keeps in order.
    group_id: str | None = None


@dataclass(frozen=True)
class WireMessage:
    """An encoded outgoing message: body text plus String message attributes."""

    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    # Only for FIFO topics and queues (see `pylon.fifo`); None for standard ones.
    group_id: str | None = None
    deduplication_id: str | None = None

    # size_bytes, once computed (functools.cached_property takes a lock per read on 3.11).
    _size: int | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def size_bytes(self) -> int:
        """Size as SNS counts it against its limit: body plus attribute names, types, values.

        Computed once (the message is frozen): batching and offloading both ask for it.
        """
        if self._size is None:
            object.__setattr__(self, "_size", self._measure())
        return self._size  # type: ignore[return-value]

    def _measure(self) -> int:
        attributes = self.attributes
        names_and_values = "".join([*attributes, *attributes.values()])
        types = len("String") * len(attributes)
        return _utf8_length(self.body) + _utf8_length(names_and_values) + types


def _utf8_length(text: str) -> int:
    """Bytes of `text` in UTF-8, without encoding an ASCII text (`isascii` is a flag test)."""
    return len(text) if text.isascii() else len(text.encode())

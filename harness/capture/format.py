"""The capture file: JSON Lines, one self-contained, versioned object per message.

Every line carries the format version (`"v": 1`) and its source, so captures can be
concatenated, filtered with `grep`/`jq` or cut with `head` and stay valid. A line:

    {"v": 1, "messageId": "…", "body": "…",
     "attributes": {"objectType": {"DataType": "String", "StringValue": "dataAsset"}, …},
     "systemAttributes": {"SentTimestamp": "1714557600000", "ApproximateReceiveCount": "1", …},
     "sentAt": "2024-05-01T10:00:00.000Z", "capturedAt": "2024-05-01T10:00:02.113Z",
     "source": {"kind": "topic", "name": "readings", "address": "arn:aws:sns:…",
                "endpoint": "https://sns.eu-west-1.amazonaws.com"},
     "payload": {"s3Uri": "s3://bucket/offload/…", "size": 301234, "base64": "…"},
     "snsEnvelope": {"TopicArn": "…", "MessageId": "…", "Timestamp": "…"}}

`attributes` keep AWS's own shape, so Number and Binary attributes survive (Binary
values as base64). `payload` is present only for messages offloaded to S3 (Pylon's
`payloadType=S3` or the extended-client pointer body): the object fetched at capture
time, inline as base64, or `"error"` saying why it could not be read. `snsEnvelope` is
present only when the message was delivered in an SNS envelope (a non-raw
subscription): the body and attributes are then the envelope's own.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.lifecycle import Closing

FORMAT_VERSION = 1
_REQUIRED = ("v", "messageId", "body", "attributes", "capturedAt", "source")


class CaptureFormatError(HarnessError):
    """A capture file line is not a capture record; the message names file and line."""


@dataclass(frozen=True)
class CapturedPayload:
    """An S3 object a message pointed at, fetched when it was captured."""

    s3_uri: str
    data: bytes | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.data is None:
            return {"s3Uri": self.s3_uri, "error": self.error or "not captured"}
        return {
            "s3Uri": self.s3_uri,
            "size": len(self.data),
            "base64": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CapturedPayload:
        encoded = data.get("base64")
        return cls(
            s3_uri=str(data["s3Uri"]),
            data=base64.b64decode(encoded, validate=True) if encoded is not None else None,
            error=data.get("error"),
        )


@dataclass(frozen=True)
class CapturedMessage:
    """One message as it was on the queue or topic, with everything needed to resend it."""

    message_id: str
    body: str
    attributes: dict[str, dict[str, str]]
    captured_at: datetime
    source: dict[str, str]
    sent_at: datetime | None = None
    system_attributes: dict[str, str] = field(default_factory=dict)
    payload: CapturedPayload | None = None
    sns_envelope: dict[str, str] | None = None

    @property
    def object_type(self) -> str | None:
        return self.string_attribute("objectType")

    def string_attribute(self, name: str) -> str | None:
        value = self.attributes.get(name)
        return value.get("StringValue") if value else None

    def to_line(self) -> str:
        record: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "messageId": self.message_id,
            "body": self.body,
            "attributes": self.attributes,
            "systemAttributes": self.system_attributes,
            "sentAt": _iso(self.sent_at) if self.sent_at else None,
            "capturedAt": _iso(self.captured_at),
            "source": self.source,
        }
        if self.payload is not None:
            record["payload"] = self.payload.to_dict()
        if self.sns_envelope is not None:
            record["snsEnvelope"] = self.sns_envelope
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str, where: str) -> datetime:
    """An ISO 8601 date-time; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CaptureFormatError(
            f"{where}: {text!r} is not an ISO 8601 date-time (like 2024-05-01T10:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- reading


def parse_line(text: str, where: str) -> CapturedMessage:
    """One line of a capture file; CaptureFormatError says what is wrong with it."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaptureFormatError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); "
            "the line may have been cut short (a truncated capture)"
        ) from None
    if not isinstance(record, dict):
        raise CaptureFormatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    _check_version(record, where)
    missing = [name for name in _REQUIRED if name not in record]
    if missing:
        raise CaptureFormatError(f"{where}: field(s) {missing} missing")
    try:
        return _message(record, where)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CaptureFormatError(f"{where}: malformed capture record ({exc!r})") from None


def _check_version(record: dict[str, Any], where: str) -> None:
    version = record.get("v")
    if version == FORMAT_VERSION:
        return
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise CaptureFormatError(
            f"{where}: capture format v{version} is newer than this Pylon reads "
            f"(v{FORMAT_VERSION}); upgrade pylon-pipelines"
        )
    raise CaptureFormatError(
        f"{where}: 'v' must be the capture format version {FORMAT_VERSION}, got {version!r}"
    )


def _message(record: dict[str, Any], where: str) -> CapturedMessage:
    attributes = record["attributes"]
    if not isinstance(attributes, dict) or not all(
        isinstance(v, dict) and "DataType" in v for v in attributes.values()
    ):
        raise CaptureFormatError(
            f"{where}: 'attributes' must map names to {{DataType, StringValue|BinaryValue}}"
        )
    if not isinstance(record["body"], str):
        raise CaptureFormatError(f"{where}: 'body' must be a string")
    sent_at = record.get("sentAt")
    payload = record.get("payload")
    return CapturedMessage(
        message_id=str(record["messageId"]),
        body=record["body"],
        attributes=attributes,
        captured_at=parse_time(str(record["capturedAt"]), f"{where} capturedAt"),
        source=dict(record["source"]),
        sent_at=parse_time(str(sent_at), f"{where} sentAt") if sent_at else None,
        system_attributes=dict(record.get("systemAttributes") or {}),
        payload=CapturedPayload.from_dict(payload) if payload is not None else None,
        sns_envelope=record.get("snsEnvelope"),
    )


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


class CaptureReader:
    """Iterates a capture file's messages with their line numbers.

    A bad line raises CaptureFormatError, unless `skip_bad_lines` is set: then it is
    recorded in `skipped` (line number and reason) and reading goes on.
    """

    def __init__(self, path: Path, *, skip_bad_lines: bool = False) -> None:
        self.path = path
        self.skip_bad_lines = skip_bad_lines
        self.skipped: list[BadLine] = []

    def __iter__(self) -> Iterator[tuple[int, CapturedMessage]]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise CaptureFormatError(f"{self.path}: cannot read ({exc.strerror})") from None
        with handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                message = self._parse(raw, number)
                if message is not None:
                    yield number, message

    def _parse(self, raw: bytes, number: int) -> CapturedMessage | None:
        where = f"{self.path} line {number}"
        try:
            return parse_line(_text(raw, where), where)
        except CaptureFormatError as exc:
            if not self.skip_bad_lines:
                raise CaptureFormatError(
                    f"{exc} (pass --skip-bad-lines / skip_bad_lines=True to replay the other lines)"
                ) from None
            self.skipped.append(BadLine(number, str(exc)))
            return None


def _text(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaptureFormatError(f"{where}: not UTF-8 text ({exc.reason})") from None


# ---------------------------------------------------------------- writing


class CaptureWriter(Closing):
    """Appends captured messages to a file, one flushed line each.

    Flushing per line means an interrupted capture leaves every whole line readable; at
    worst the last one is cut short, which the reader reports (or skips) by number.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("w", encoding="utf-8")
        self.count = 0

    def write(self, message: CapturedMessage) -> None:
        self._handle.write(message.to_line() + "\n")
        self._handle.flush()
        self.count += 1

    def close(self) -> None:
        self._handle.close()

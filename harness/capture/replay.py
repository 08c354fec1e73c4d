"""Replaying a capture file into a queue or topic, attributes and all.

Messages are sent in file order, optionally filtered (objectType, a time range on when
they were originally sent) and paced (messages per second). Payloads that were offloaded
to S3 in the source account are uploaded again under a local location and the message
is rewritten to point there (pointer body and `payloadS3Path`), so the local pipeline
reads them from its own bucket.

    report = replay(Path("readings.jsonl"), resolve_target("parser-in"),
                    ReplayFilter(object_types={"dataAsset"}), rate=50)
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.capture.format import BadLine, CapturedMessage, CaptureReader
from harness.errors import HarnessError
from harness.targets import Target
from pylon.aws.batching import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES
from pylon.aws.clients import new_client
from pylon.aws.s3 import S3Store
from pylon.errors import PayloadError
from pylon.s3_pointer import S3Location, parse_pointer, pointer_body

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Where re-materialised payloads go when neither the caller nor the spec names a place.
DEFAULT_PAYLOAD_S3_PATH = "s3://pylon-replay-payloads/replay/"


class ReplayError(HarnessError):
    """A captured message cannot be replayed (or the destination refused it)."""


@dataclass(frozen=True)
class ReplayFilter:
    """Which captured messages to send: objectTypes (any, when empty) and a sentAt range."""

    object_types: Collection[str] = ()
    since: datetime | None = None
    until: datetime | None = None

    def accepts(self, message: CapturedMessage) -> bool:
        if self.object_types and message.object_type not in self.object_types:
            return False
        if self.since is None and self.until is None:
            return True
        sent = message.sent_at or message.captured_at
        if self.since is not None and sent < self.since:
            return False
        return self.until is None or sent < self.until


@dataclass
class ReplayReport:
    sent: int = 0
    filtered_out: int = 0
    payloads_restored: int = 0
    skipped: list[BadLine] = field(default_factory=list)


class Pacer:
    """Spaces sends `1/rate` seconds apart from the first one (no drift, no bursts)."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ReplayError(
                f"the rate must be a positive number of messages per second, got {rate}"
            )
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None
        self._sent = 0

    def wait(self) -> None:
        """Block until the next message may go."""
        if self.rate is None:
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._sent / self.rate
        if due > now:
            self._sleep(due - now)
        self._sent += 1


def replay(
    path: Path,
    target: Target,
    replay_filter: ReplayFilter | None = None,
    *,
    rate: float | None = None,
    skip_bad_lines: bool = False,
    payload_s3_path: str | None = None,
    session: boto3.session.Session | None = None,
    on_sent: Callable[[CapturedMessage], None] | None = None,
) -> ReplayReport:
    """Send the capture's messages to `target`; see the module docstring.

    A corrupt line raises CaptureFormatError (naming file and line) before anything is
    sent; with `skip_bad_lines` the other lines are sent and the bad ones listed in the
    report's `skipped`.
    """
    session = session or boto3.session.Session()
    chosen = replay_filter or ReplayFilter()
    if not skip_bad_lines:
        _check_every_line(path)
    reader = CaptureReader(path, skip_bad_lines=skip_bad_lines)
    sender = _Sender(target, session, Pacer(rate))
    payloads = _PayloadRestorer(new_client("s3", session), payload_s3_path)
    report = ReplayReport()
    for number, message in reader:
        if not chosen.accepts(message):
            report.filtered_out += 1
            continue
        try:
            prepared = payloads.restore(message, f"{path} line {number}")
        except ReplayError as exc:
            if not skip_bad_lines:
                raise
            reader.skipped.append(BadLine(number, str(exc)))
            continue
        sender.send(prepared, number)
        report.sent += 1
        if on_sent is not None:
            on_sent(prepared)
    sender.flush()
    report.payloads_restored = payloads.restored
    report.skipped = list(reader.skipped)
    return report


def _check_every_line(path: Path) -> None:
    """A whole file or nothing: a bad line stops the replay before anything is sent."""
    for number, message in CaptureReader(path):
        _require_payload(message, f"{path} line {number}")


def _require_payload(message: CapturedMessage, where: str) -> None:
    payload = message.payload
    if payload is not None and payload.data is None:
        raise ReplayError(
            f"{where}: message {message.message_id} points at {payload.s3_uri}, which was "
            f"not captured ({payload.error}); it cannot be replayed (pass --skip-bad-lines / "
            "skip_bad_lines=True to replay the other lines)"
        )


# ---------------------------------------------------------------- payloads


class _PayloadRestorer:
    """Uploads captured payloads to the local location and rewrites the references."""

    def __init__(self, s3: S3Client, payload_s3_path: str | None) -> None:
        self._s3_client = s3
        self._s3 = S3Store(s3)
        self._location = S3Location.parse(
            payload_s3_path or DEFAULT_PAYLOAD_S3_PATH, "replay payload location"
        )
        self._bucket_ready = False
        self.restored = 0

    def restore(self, message: CapturedMessage, where: str) -> CapturedMessage:
        payload = message.payload
        if payload is None:
            return message
        _require_payload(message, where)
        assert payload.data is not None
        target = self._location.child(str(uuid.uuid4()))
        self._ensure_bucket()
        try:
            self._s3.put_bytes(target, payload.data, self._mime_type(message))
        except PayloadError as exc:
            raise ReplayError(f"{where}: re-uploading the payload failed: {exc}") from None
        self.restored += 1
        return _pointing_at(message, target.uri)

    @staticmethod
    def _mime_type(message: CapturedMessage) -> str:
        return message.string_attribute("payloadMimeType") or "application/octet-stream"

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        bucket = self._location.bucket
        try:
            self._s3_client.head_bucket(Bucket=bucket)
        except ClientError:
            try:
                self._s3_client.create_bucket(Bucket=bucket)
            except (ClientError, BotoCoreError) as exc:
                raise ReplayError(
                    f"bucket {bucket!r} for replayed payloads does not exist and cannot be "
                    f"created ({exc}); pass a payload location in an existing bucket"
                ) from None
        self._bucket_ready = True


def _pointing_at(message: CapturedMessage, uri: str) -> CapturedMessage:
    attributes = dict(message.attributes)
    if "payloadS3Path" in attributes:
        attributes["payloadS3Path"] = {"DataType": "String", "StringValue": uri}
    body = pointer_body(uri) if _is_pointer(message.body) else message.body
    return CapturedMessage(
        message_id=message.message_id,
        body=body,
        attributes=attributes,
        captured_at=message.captured_at,
        source=message.source,
        sent_at=message.sent_at,
        system_attributes=message.system_attributes,
        payload=None,
        sns_envelope=message.sns_envelope,
    )


def _is_pointer(body: str) -> bool:
    try:
        return parse_pointer(body) is not None
    except PayloadError:
        return False


# ---------------------------------------------------------------- sending


class _Sender:
    """Batches of up to 10 (one at a time when paced), every failed entry reported."""

    def __init__(self, target: Target, session: boto3.session.Session, pacer: Pacer) -> None:
        self._target = target
        self._client: Any = new_client("sqs" if target.kind == "queue" else "sns", session)
        self._pacer = pacer
        self._pending: list[tuple[int, CapturedMessage]] = []
        self._pending_bytes = 0

    def send(self, message: CapturedMessage, line: int) -> None:
        self._pacer.wait()
        size = _size(message)
        if self._pending and self._pending_bytes + size > MAX_BATCH_BYTES:
            self.flush()
        self._pending.append((line, message))
        self._pending_bytes += size
        if len(self._pending) >= MAX_BATCH_ENTRIES or self._pacer.rate is not None:
            self.flush()

    def flush(self) -> None:
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if not pending:
            return
        try:
            response = self._request(
                [_entry(self._target.kind, i, m) for i, (_, m) in enumerate(pending)]
            )
        except (ClientError, BotoCoreError) as exc:
            raise ReplayError(
                f"replaying lines {pending[0][0]}-{pending[-1][0]} into {self._target.kind} "
                f"{self._target.name} failed: {exc}"
            ) from None
        failed = response.get("Failed", [])
        if failed:
            details = "; ".join(
                f"line {pending[int(f['Id'])][0]}: {f.get('Code')} {f.get('Message', '')}"
                for f in failed
            )
            raise ReplayError(f"{self._target.kind} {self._target.name} refused {details}")

    def _request(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self._target.kind == "queue":
            result: dict[str, Any] = self._client.send_message_batch(
                QueueUrl=self._target.address, Entries=entries
            )
        else:
            result = self._client.publish_batch(
                TopicArn=self._target.address, PublishBatchRequestEntries=entries
            )
        return result


def _size(message: CapturedMessage) -> int:
    """Bytes as SQS/SNS count them against a batch: body plus attribute names and values."""
    attributes = sum(
        len(name.encode()) + len(value["DataType"]) + len(value.get("StringValue", "").encode())
        + len(value.get("BinaryValue", "")) * 3 // 4
        for name, value in message.attributes.items()
    )  # fmt: skip
    return len(message.body.encode()) + attributes


def _entry(kind: str, index: int, message: CapturedMessage) -> dict[str, Any]:
    body_key = "MessageBody" if kind == "queue" else "Message"
    return {
        "Id": str(index),
        body_key: message.body,
        "MessageAttributes": dict(_wire_attributes(message.attributes)),
    }


def _wire_attributes(
    attributes: dict[str, dict[str, str]],
) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, value in attributes.items():
        entry: dict[str, Any] = {"DataType": value["DataType"]}
        if "StringValue" in value:
            entry["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        yield name, entry

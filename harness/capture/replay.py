"""Replaying a capture file into a queue or topic, attributes and all.

Messages are sent in file order, optionally filtered (objectType, a time range on when
they were originally sent) and paced (messages per second). Payloads that were offloaded
to S3 in the source account are uploaded again under a local location and the message
is rewritten to point there (pointer body, in its original format, and `payloadS3Path`),
so the local pipeline reads them from its own bucket. A message captured inline but over
SNS's 256 KiB (SQS takes 1 MiB) is offloaded there too, as a component would have.

    report = replay(Path("readings.jsonl"), resolve_target("parser-in"),
                    ReplayFilter(object_types={"dataAsset"}), rate=50)
"""

from __future__ import annotations

import base64
import dataclasses
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.capture.format import BadLine, CapturedMessage, CaptureReader
from harness.errors import HarnessError
from harness.messaging.payloads import OutgoingPayloads
from harness.messaging.sending import resent_in_group
from harness.messaging.targets import Target
from pylon.aws.batching import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES
from pylon.aws.clients import new_client
from pylon.codec import EXTENDED_PAYLOAD_SIZE, MAX_ATTRIBUTES
from pylon.errors import PayloadError
from pylon.fifo import check_group_id, is_fifo
from pylon.models.messages import PayloadType
from pylon.payloads import SNS_MAX_MESSAGE_BYTES
from pylon.s3_pointer import PointerFormat, S3Location, pointer_body, pointer_format

# Where re-materialised payloads go when neither the caller nor the spec names a place.
DEFAULT_PAYLOAD_S3_PATH = "s3://pylon-replay-payloads/replay/"


class ReplayError(HarnessError):
    """A captured message cannot be replayed (or the destination refused it)."""


@dataclass(frozen=True)
class ReplayFilter:
    """Which captured messages to send: objectTypes (any, when empty), a sentAt range, and
    ingestionIds (a journey's input: the data messages carrying one of them, without the
    ingestion-step records that share the id unless objectTypes asks for them)."""

    object_types: Collection[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    ingestion_ids: Collection[str] = ()

    def accepts(self, message: CapturedMessage) -> bool:
        if self.object_types and message.object_type not in self.object_types:
            return False
        if self.ingestion_ids and not self._in_journey(message):
            return False
        if self.since is None and self.until is None:
            return True
        sent = message.sent_at or message.captured_at
        if self.since is not None and sent < self.since:
            return False
        return self.until is None or sent < self.until

    def _in_journey(self, message: CapturedMessage) -> bool:
        if message.string_attribute("ingestionId") not in self.ingestion_ids:
            return False
        return bool(self.object_types) or message.object_type != "ingestionStep"


def captured_sources(path: Path, chosen: ReplayFilter) -> dict[str, Target]:
    """Where the chosen messages were captured, by address: `replay --from-step` sends a
    journey's input back where it was seen when no destination is given."""
    sources: dict[str, Target] = {}
    for _, message in CaptureReader(path, skip_bad_lines=True):
        source = message.source
        if chosen.accepts(message) and source.get("kind") in ("topic", "queue"):
            address, name = source["address"], source["name"]
            sources[address] = (
                Target("topic", name, address)
                if source["kind"] == "topic"
                else Target("queue", name, address)
            )
    return sources


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
    group_id: str | None = None,
) -> ReplayReport:
    """Send the capture's messages to `target`; see the module docstring.

    Into a FIFO target each message goes in its captured message group (or `group_id`,
    for a capture from a standard queue), in capture order, with a fresh de-duplication
    id: a replay is meant to deliver again.

    A corrupt line raises CaptureFormatError (naming file and line) before anything is
    sent; with `skip_bad_lines` the other lines are sent and the bad ones listed in the
    report's `skipped`.
    """
    session = session or boto3.session.Session()
    chosen = replay_filter or ReplayFilter()
    if not skip_bad_lines:
        _check_every_line(path)
    reader = CaptureReader(path, skip_bad_lines=skip_bad_lines)
    sender = _Sender(target, session, Pacer(rate), _fifo_group(target, group_id))
    payloads = _PayloadRestorer(
        OutgoingPayloads(
            S3Location.parse(payload_s3_path or DEFAULT_PAYLOAD_S3_PATH, "replay payload location"),
            session,
        )
    )
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
    """Uploads captured payloads to the local location and rewrites the references; a
    message captured inline but over SNS's limit is offloaded there too, as a component
    would have offloaded it."""

    def __init__(self, payloads: OutgoingPayloads) -> None:
        self._payloads = payloads
        self.restored = 0

    def restore(self, message: CapturedMessage, where: str) -> CapturedMessage:
        payload = message.payload
        if payload is None:
            return self._offload_if_large(message, where)
        _require_payload(message, where)
        assert payload.data is not None
        target = self._upload(payload.data, self._mime_type(message), where)
        self.restored += 1
        return _pointing_at(message, target.uri)

    def _offload_if_large(self, message: CapturedMessage, where: str) -> CapturedMessage:
        if _size(message) <= SNS_MAX_MESSAGE_BYTES or _pointer_format(message.body):
            return message
        body = message.body.encode("utf-8")
        target = self._upload(body, self._mime_type(message), where)
        attributes = {
            **message.attributes,
            "payloadType": {"DataType": "String", "StringValue": PayloadType.S3.value},
            "payloadS3Path": {"DataType": "String", "StringValue": target.uri},
            EXTENDED_PAYLOAD_SIZE: {"DataType": "Number", "StringValue": str(len(body))},
        }
        if len(attributes) > MAX_ATTRIBUTES:
            raise ReplayError(
                f"{where}: message {message.message_id} is over SNS's {SNS_MAX_MESSAGE_BYTES}-"
                f"byte limit and has {len(message.attributes)} attributes, too many to add "
                f"the 3 an offloaded payload needs (at most {MAX_ATTRIBUTES})"
            )
        return dataclasses.replace(message, body=pointer_body(target.uri), attributes=attributes)

    def _upload(self, data: bytes, mime_type: str, where: str) -> S3Location:
        target = self._payloads.location.child(str(uuid.uuid4()))
        try:
            self._payloads.put(target, data, mime_type)
        except PayloadError as exc:
            raise ReplayError(f"{where}: re-uploading the payload failed: {exc}") from None
        return target

    @staticmethod
    def _mime_type(message: CapturedMessage) -> str:
        return message.string_attribute("payloadMimeType") or "application/octet-stream"


def _pointing_at(message: CapturedMessage, uri: str) -> CapturedMessage:
    attributes = dict(message.attributes)
    if "payloadS3Path" in attributes:
        attributes["payloadS3Path"] = {"DataType": "String", "StringValue": uri}
    kept_format = _pointer_format(message.body)
    body = pointer_body(uri, kept_format) if kept_format else message.body
    return dataclasses.replace(message, body=body, attributes=attributes, payload=None)


def _pointer_format(body: str) -> PointerFormat | None:
    """The body's pointer format (kept on replay), or None when it is not a valid pointer."""
    try:
        return pointer_format(body)
    except PayloadError:
        return None


# ---------------------------------------------------------------- sending


class _Sender:
    """Batches of up to 10 (one at a time when paced), every failed entry reported."""

    def __init__(
        self,
        target: Target,
        session: boto3.session.Session,
        pacer: Pacer,
        group: Callable[[CapturedMessage, int], str] | None = None,
    ) -> None:
        self._target = target
        self._group = group
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
                [self._entry(i, line, m) for i, (line, m) in enumerate(pending)]
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

    def _entry(self, index: int, line: int, message: CapturedMessage) -> dict[str, Any]:
        entry = _entry(self._target.kind, index, message)
        if self._group is not None:
            entry |= resent_in_group(self._group(message, line))
        return entry

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


def _fifo_group(
    target: Target, group_id: str | None
) -> Callable[[CapturedMessage, int], str] | None:
    """For a FIFO target, how each message's group is chosen; None for a standard one."""
    if not is_fifo(target.address):
        if group_id is not None:
            raise ReplayError(
                f"{target.kind} {target.name} is not FIFO: --group-id applies only to FIFO targets"
            )
        return None
    if group_id is not None:
        check_group_id(group_id, "--group-id")

    def group_of(message: CapturedMessage, line: int) -> str:
        group = group_id or message.system_attributes.get("MessageGroupId")
        if not group:
            raise ReplayError(
                f"line {line}: {target.kind} {target.name} is FIFO, and the message was "
                "captured without a message group (from a standard queue or topic); "
                "give one with --group-id"
            )
        return group

    return group_of


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

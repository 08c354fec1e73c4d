"""Capturing what a topic publishes or what sits in a queue, into a capture file.

A topic is captured through a `TopicTap` (a temporary subscribed queue: the only thing
created, and removed afterwards). A queue is read with a `QueuePeek`: nothing is deleted,
every message read is held for `hold_seconds` and made visible again at the end.
Payloads offloaded to S3 are fetched as they are captured and stored in the line.

    with CaptureWriter(Path("readings.jsonl")) as writer:
        report = capture(resolve_target("readings"), writer, StopWhen(count=100))
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from harness.capture.format import CapturedMessage, CapturedPayload, CaptureWriter
from harness.messaging.targets import Target
from harness.observe.taps import QueuePeek, TopicTap
from pylon.aws.clients import new_client
from pylon.aws.s3 import S3Store
from pylon.codec import sns_envelope
from pylon.errors import PayloadError
from pylon.payloads import payload_location
from pylon.wire import InboundMessage, SqsMessage

# How long a queue capture keeps the messages it read invisible, so that one pass sees
# each once; they are made visible again as soon as the capture ends.
DEFAULT_HOLD_SECONDS = 60


@dataclass(frozen=True)
class StopWhen:
    """When a capture ends: after `count` messages, after `seconds`, or (a queue, unless
    `follow`) once a receive finds nothing more to read. Ctrl-C ends it too."""

    count: int | None = None
    seconds: float | None = None
    follow: bool = False


@dataclass
class CaptureReport:
    captured: int = 0
    payloads: int = 0
    payload_errors: list[str] = field(default_factory=list)
    # Messages a queue capture could not make visible again (deleted meanwhile).
    not_released: list[str] = field(default_factory=list)


OnMessage = Callable[[CapturedMessage], None]


def capture(
    target: Target,
    writer: CaptureWriter,
    stop: StopWhen,
    session: boto3.session.Session | None = None,
    on_message: OnMessage | None = None,
    hold_seconds: int = DEFAULT_HOLD_SECONDS,
    on_ready: Callable[[], object] | None = None,
) -> CaptureReport:
    """Write what `target` holds or publishes to `writer` until `stop`; see StopWhen.

    `on_ready` is called once a topic's tap is subscribed: what is published from then
    on is captured.
    """
    session = session or boto3.session.Session()
    recorder = _Recorder(target, session, writer, on_message)
    if target.kind == "topic":
        with TopicTap(target.address, session) as tap:
            if on_ready is not None:
                on_ready()
            recorder.run(_batches(tap.receive, stop, drained_ends=False), stop)
        return recorder.report
    peek = QueuePeek(target.address, hold_seconds, session)
    try:
        recorder.run(_batches(peek.receive, stop, drained_ends=not stop.follow), stop)
    finally:
        recorder.report.not_released = peek.release()
    return recorder.report


def _batches(
    receive: Callable[[int], list[SqsMessage]], stop: StopWhen, *, drained_ends: bool
) -> Iterator[list[SqsMessage]]:
    deadline = None if stop.seconds is None else time.monotonic() + stop.seconds
    while deadline is None or time.monotonic() < deadline:
        batch = receive(1)
        if not batch and drained_ends:
            return
        yield batch


class _Recorder:
    def __init__(
        self,
        target: Target,
        session: boto3.session.Session,
        writer: CaptureWriter,
        on_message: OnMessage | None,
    ) -> None:
        self._s3 = S3Store(new_client("s3", session))
        self._writer = writer
        self._on_message = on_message
        self._source = capture_source(target, session)
        self.report = CaptureReport()

    def run(self, batches: Iterator[list[SqsMessage]], stop: StopWhen) -> None:
        for batch in batches:
            for raw in batch:
                self._record(self.captured(raw))
                if stop.count is not None and self.report.captured >= stop.count:
                    return

    def _record(self, message: CapturedMessage) -> None:
        self._writer.write(message)
        self.report.captured += 1
        if message.payload is not None:
            self.report.payloads += 1
            if message.payload.error:
                self.report.payload_errors.append(f"{message.message_id}: {message.payload.error}")
        if self._on_message is not None:
            self._on_message(message)

    def captured(self, raw: SqsMessage) -> CapturedMessage:
        return captured_message(raw, self._source, self._s3)


def capture_source(target: Target, session: boto3.session.Session) -> dict[str, str]:
    """The `source` of a capture line: what was captured, and where."""
    return {
        "kind": target.kind,
        "name": target.name,
        "address": target.address,
        "endpoint": str(new_client("sqs", session).meta.endpoint_url),
    }


def captured_message(raw: SqsMessage, source: dict[str, str], s3: S3Store) -> CapturedMessage:
    """A received message as a capture line: envelope unwrapped, S3 payload fetched."""
    body, attributes, envelope = _unwrapped(raw)
    system = dict(raw.get("Attributes", {}))
    return CapturedMessage(
        message_id=raw["MessageId"],
        body=body,
        attributes=attributes,
        captured_at=datetime.now(UTC),
        source=source,
        sent_at=_sent_at(system),
        system_attributes=system,
        payload=_payload(raw["MessageId"], body, attributes, s3),
        sns_envelope=envelope,
    )


def _payload(
    message_id: str, body: str, attributes: dict[str, dict[str, str]], s3: S3Store
) -> CapturedPayload | None:
    strings = {k: v["StringValue"] for k, v in attributes.items() if "StringValue" in v}
    try:
        location = payload_location(InboundMessage(message_id, "", body, strings))
    except PayloadError as exc:  # a malformed pointer, or S3 without a path
        return CapturedPayload(strings.get("payloadS3Path", "(no location)"), error=str(exc))
    if location is None:
        return None
    try:
        return CapturedPayload(location.uri, data=s3.get_bytes(location))
    except PayloadError as exc:
        return CapturedPayload(location.uri, error=str(exc))


def _unwrapped(
    raw: SqsMessage,
) -> tuple[str, dict[str, dict[str, str]], dict[str, str] | None]:
    """Body, attributes and envelope facts; a non-raw SNS delivery is unwrapped."""
    envelope = sns_envelope(raw["Body"])
    if envelope is None:
        return raw["Body"], _attributes(raw), None
    attributes = {
        name: _envelope_attribute(value)
        for name, value in (envelope.get("MessageAttributes") or {}).items()
        if isinstance(value, dict) and "Value" in value
    }
    facts: dict[str, str] = {
        k: str(envelope[k]) for k in ("TopicArn", "MessageId", "Timestamp") if k in envelope
    }
    return str(envelope["Message"]), attributes, facts


def _attributes(raw: SqsMessage) -> dict[str, dict[str, str]]:
    """Message attributes in AWS's shape; binary values as base64 text."""
    result: dict[str, dict[str, str]] = {}
    for name, value in raw.get("MessageAttributes", {}).items():
        entry = {"DataType": value["DataType"]}
        if "StringValue" in value:
            entry["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["BinaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        result[name] = entry
    return result


def _envelope_attribute(value: dict[str, Any]) -> dict[str, str]:
    kind = str(value.get("Type", "String"))
    # The envelope already carries binary values as base64 text.
    key = "BinaryValue" if kind.startswith("Binary") else "StringValue"
    return {"DataType": kind, key: str(value["Value"])}


def _sent_at(system: dict[str, str]) -> datetime | None:
    stamp = system.get("SentTimestamp")
    return datetime.fromtimestamp(int(stamp) / 1000, UTC) if stamp else None

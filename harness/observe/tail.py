"""Following a topic or queue live, and rendering messages for a terminal.

A topic is followed through a temporary subscribed queue (`TopicTap`, removed
afterwards). A queue is read through a `QueuePeek`: each message is received once, held
while the tail runs and returned the moment it stops, so tailing consumes nothing (see
harness/taps.py for why a zero-visibility "peek" would not do). Close the iterator to
return them promptly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from contextlib import closing

from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from harness.messaging.targets import Target
from harness.observe.taps import HOLD_SECONDS, QueuePeek, TopicTap, decode_leniently
from pylon.aws.s3 import S3Store
from pylon.codec import inbound_from_sqs
from pylon.interfaces.serializing import JsonSerializable
from pylon.models.messages import BaseMessage
from pylon.wire import SqsMessage


def follow(target: Target, seconds: float | None = None) -> Generator[BaseMessage, None, None]:
    """Messages as they arrive, until `seconds` pass (or forever); close() to stop early."""
    deadline = None if seconds is None else time.monotonic() + seconds
    s3 = S3Store()  # one client for the whole tail: offloaded payloads are fetched with it
    follow_source = _follow_topic if target.kind == "topic" else _follow_queue
    for message in follow_source(target, s3):
        if message is not None:
            yield message
        if deadline is not None and time.monotonic() >= deadline:
            return


def _follow_topic(target: Target, s3: S3Store) -> Iterator[BaseMessage | None]:
    with TopicTap(target.address) as tap:
        while True:
            yield from _decoded(tap.receive(wait_seconds=1), s3)


def _follow_queue(target: Target, s3: S3Store) -> Iterator[BaseMessage | None]:
    with closing(QueuePeek(target.address, hold_seconds=HOLD_SECONDS)) as peek:
        while True:
            yield from _decoded(peek.receive(wait_seconds=1), s3)


def _decoded(batch: list[SqsMessage], s3: S3Store) -> Iterator[BaseMessage | None]:
    """The batch's messages (undecodable ones shown as text), or one None when empty."""
    yield from (decode_leniently(inbound_from_sqs(raw), s3) for raw in batch)
    if not batch:
        yield None


def render(message: BaseMessage) -> Panel:
    attributes = Table.grid(padding=(0, 2))
    fields = {
        "objectType": message.objectType.value,
        "payloadType": message.payloadType.value,
        "payloadMimeType": message.payloadMimeType,
        "ingestionId": message.ingestionId,
        "payloadS3Path": message.payloadS3Path,
        "dataAssetName": message.dataAssetName,
        "dataAssetCountry": message.dataAssetCountry,
        **message.attributes,
    }
    for name, value in fields.items():
        if value:
            attributes.add_row(f"[dim]{name}[/dim]", str(value))
    return Panel(
        Group(attributes, _body(message)), title=message.messageId or "", title_align="left"
    )


def _body(message: BaseMessage) -> Syntax:
    body = message.body
    if isinstance(body, JsonSerializable):
        text = json.dumps(body.to_dict(), indent=2, ensure_ascii=False)
    else:
        text = "" if body is None else str(body)
    if len(text) > 4000:
        text = text[:4000] + f"\n… ({len(text) - 4000} more characters)"
    return Syntax(text, "json" if isinstance(body, JsonSerializable) else "text", word_wrap=True)

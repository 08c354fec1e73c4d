"""`TopicRecorder`: captures everything a topic publishes, through a temporary queue.

The queue (a `harness.observe.taps.TopicTap`) is subscribed with raw delivery and no filter, so
it sees exactly what consumers would see; it is deleted (with its subscription) on
`close()`.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable

import boto3

from harness.lifecycle import Closing
from harness.observe.taps import TopicTap, decode_leniently
from harness.testing.waiting import wait_until
from pylon.aws.s3 import S3Store
from pylon.codec import inbound_from_sqs
from pylon.models.messages import BaseMessage, ObjectType
from pylon.wire import InboundMessage

Predicate = Callable[[BaseMessage], bool]


_FULL_BATCH = 10


class TopicRecorder(Closing):
    """Records the messages published on one topic from the moment it is created."""

    def __init__(
        self,
        topic_arn: str,
        session: boto3.session.Session | None = None,
        keep: int | None = None,
    ) -> None:
        """`keep`: hold only the last this many messages (a long `pylon up`); `counts`
        still counts every one by objectType."""
        self.topic_arn = topic_arn
        session = session or boto3.session.Session()
        self._s3 = S3Store(session.client("s3"))
        self._tap = TopicTap(topic_arn, session)
        self._lock = threading.Lock()
        self._keep = keep
        self.raw: list[InboundMessage] = []
        self.messages: list[BaseMessage] = []
        self.counts: Counter[str] = Counter()

    @property
    def tap_queue_url(self) -> str:
        """The emulator-side queue the recorder reads from."""
        return str(self._tap.queue_url)

    def poll(self, wait_seconds: int = 0) -> list[BaseMessage]:
        """Drain what arrived so far into `messages`; return the new ones."""
        new: list[BaseMessage] = []
        inbound: list[InboundMessage] = []
        batch = self._tap.receive(wait_seconds)
        while batch:
            for raw in batch:
                inbound.append(inbound_from_sqs(raw))
                new.append(decode_leniently(inbound[-1], self._s3))
            # A full batch means more may be waiting (SQS hands out at most ten).
            batch = self._tap.receive() if len(batch) == _FULL_BATCH else []
        with self._lock:  # together, so `raw[i]` is always the wire form of `messages[i]`
            self.raw.extend(inbound)
            self.messages.extend(new)
            self.counts.update(m.objectType.value for m in new)
            if self._keep is not None and len(self.messages) > self._keep:
                del self.raw[: -self._keep], self.messages[: -self._keep]
        return new

    def wait_for(
        self, count: int = 1, predicate: Predicate | None = None, timeout_s: float = 15.0
    ) -> list[BaseMessage]:
        """Wait until `count` recorded messages match `predicate`; return those."""

        def matching() -> list[BaseMessage] | None:
            self.poll()
            found = [m for m in self.messages if predicate is None or predicate(m)]
            return found if len(found) >= count else None

        return wait_until(
            matching,
            timeout_s,
            describe=self.describe,
            what=f"{count} matching message(s) on {self.topic_arn}",
        )

    def of_type(self, object_type: ObjectType) -> list[BaseMessage]:
        self.poll()
        return [m for m in self.messages if m.objectType is object_type]

    def groups(self, object_type: ObjectType | None = None) -> dict[str, list[BaseMessage]]:
        """A FIFO topic's messages per message group, in the order the topic delivered them
        (messages of a standard topic have no group and are left out)."""
        self.poll()
        with self._lock:
            pairs = list(zip(self.raw, self.messages, strict=True))
        grouped: dict[str, list[BaseMessage]] = {}
        for inbound, message in pairs:
            if inbound.group_id is not None and object_type in (None, message.objectType):
                grouped.setdefault(inbound.group_id, []).append(message)
        return grouped

    def assert_order_per_group(
        self, key: Callable[[BaseMessage], object], object_type: ObjectType | None = None
    ) -> dict[str, list[BaseMessage]]:
        """Assert that within each group `key` of the messages only grows; return the groups.

        recorder.assert_order_per_group(lambda m: int(m.attributes["seq"]))
        """
        grouped = self.groups(object_type)
        for group, messages in grouped.items():
            keys = [key(message) for message in messages]
            for index, (before, after) in enumerate(itertools.pairwise(keys)):
                if not before < after:  # type: ignore[operator]
                    raise AssertionError(
                        f"{self.topic_arn}: group {group!r} is out of order at position "
                        f"{index + 1}: {before!r} then {after!r} (whole group: {keys})"
                    )
        return grouped

    def describe(self) -> str:
        """What was seen, for failure messages."""
        with self._lock:
            seen = [f"{m.objectType.value}: {_short(m)}" for m in self.messages]
        return f"{len(seen)} message(s) {seen}"

    def close(self) -> None:
        self._tap.close()


def _short(message: BaseMessage) -> str:
    body = (
        message.body
        if isinstance(message.body, str)
        else getattr(message.body, "to_json", lambda: repr(message.body))()
    )
    return str(body)[:120]

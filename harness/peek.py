"""Reading a queue without consuming it: `QueuePeek`.

SQS has no real peek: every receive raises a message's ApproximateReceiveCount, and on a
queue with a redrive policy a message received `maxReceiveCount` times moves to the
dead-letter queue. Polling with a zero visibility timeout (the obvious "peek") would
therefore push every message it looks at into the DLQ within seconds. Instead each
message is received ONCE per peek and held invisible, its hold renewed while the peek is
open, and all are made visible again when it closes. If the peeking process dies, the
messages come back on their own after at most `HOLD_SECONDS`.
"""

from __future__ import annotations

import time
from types import TracebackType

import boto3

from pylon.aws.sqs import SqsQueue
from pylon.wire import SqsMessage

# Short enough that a killed peek frees its messages soon; renewed at half-life.
HOLD_SECONDS = 60


class QueuePeek:
    """Each message of the queue is received at most once, and all are returned on close."""

    def __init__(self, queue_url: str, session: boto3.session.Session | None = None) -> None:
        client = (session or boto3.session.Session()).client("sqs")
        self._queue = SqsQueue(queue_url, client)
        self._held: dict[str, str] = {}  # message id -> receipt handle
        self._renewed_at = time.monotonic()

    @property
    def held(self) -> int:
        """How many messages this peek holds invisible right now."""
        return len(self._held)

    def poll(self, wait_seconds: int = 1) -> list[SqsMessage]:
        """Messages not seen before by this peek (long polling up to `wait_seconds`)."""
        self._renew_if_due()
        batch = self._queue.receive(10, wait_seconds, visibility_timeout=HOLD_SECONDS)
        new = [raw for raw in batch if raw["MessageId"] not in self._held]
        for raw in batch:
            self._held[raw["MessageId"]] = raw["ReceiptHandle"]
        return new

    def _renew_if_due(self) -> None:
        if time.monotonic() - self._renewed_at < HOLD_SECONDS / 2:
            return
        self._queue.hold(list(self._held.values()), HOLD_SECONDS)
        self._renewed_at = time.monotonic()

    def close(self) -> None:
        """Make every held message visible again, now."""
        self._queue.release(list(self._held.values()))
        self._held.clear()

    def __enter__(self) -> QueuePeek:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

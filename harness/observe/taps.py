"""Reading what flows through a topic or sits in a queue, without consuming it.

- `TopicTap`: a temporary queue subscribed to a topic (raw delivery, no filter), so it
  sees exactly what subscribers see; the queue and subscription are removed on `close()`.
  This is the only thing Pylon creates when it taps a topic, on AWS as on an emulator.
- `QueuePeek`: receives from a queue without deleting anything. SQS has no real peek:
  every receive increments ApproximateReceiveCount, which counts against a redrive
  policy's maxReceiveCount, so polling with a zero visibility timeout (the obvious
  "peek") pushes every message it looks at into the dead-letter queue within seconds.
  Instead each message is received once and held invisible for `hold_seconds`, the hold
  renewed at half-life while the peek is in use, and all are made visible again with
  ChangeMessageVisibility 0 by `release()`/`close()`. If the peeking process dies, they
  come back on their own when the hold runs out.

`pylon tail`, `pylon capture` and the pytest `TopicRecorder` are built on these two.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import boto3

from harness.lifecycle import Closing
from pylon.aws.clients import new_client
from pylon.aws.s3 import S3Store
from pylon.aws.sqs import SqsQueue
from pylon.codec import decode
from pylon.errors import PylonError
from pylon.fifo import FIFO_SUFFIX, is_fifo
from pylon.models.messages import BaseMessage
from pylon.payloads import resolve_body
from pylon.wire import InboundMessage, SqsMessage

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# What each captured/peeked message carries besides its body and message attributes.
SYSTEM_ATTRIBUTES: Any = ["All"]
_BATCH = 10
# A peek's default hold: short enough that a killed peek frees its messages soon.
HOLD_SECONDS = 60

logger = logging.getLogger(__name__)


class TopicTap(Closing):
    """A temporary, unfiltered, raw subscription of a new queue to `topic_arn`.

    `subscription_attributes` subscribe it otherwise (a filter policy, no raw delivery):
    a tap with the attributes of a queue's own subscription is that queue's mirror, and
    receives exactly what SNS delivers to it, without touching the queue itself.
    """

    def __init__(
        self,
        topic_arn: str,
        session: boto3.session.Session | None = None,
        subscription_attributes: Mapping[str, str] | None = None,
    ) -> None:
        self.topic_arn = topic_arn
        self._attributes = dict(subscription_attributes or {"RawMessageDelivery": "true"})
        self._sqs: SQSClient = new_client("sqs", session)
        self._sns: SNSClient = new_client("sns", session)
        name = f"pylon-tap-{uuid.uuid4().hex[:12]}"
        if is_fifo(topic_arn):
            # A FIFO tap keeps the topic's order per group (and its de-duplication).
            self.queue_url = self._sqs.create_queue(
                QueueName=f"{name}{FIFO_SUFFIX}", Attributes={"FifoQueue": "true"}
            )["QueueUrl"]
        else:
            self.queue_url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        try:
            self.subscription_arn = self._subscribe()
        except BaseException:
            self._sqs.delete_queue(QueueUrl=self.queue_url)
            raise

    def _subscribe(self) -> str:
        queue_arn = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        # The policy goes first so that nothing published after subscribing is refused.
        self._sqs.set_queue_attributes(
            QueueUrl=self.queue_url, Attributes={"Policy": _allow_topic(queue_arn, self.topic_arn)}
        )
        return self._sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes=self._attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    def receive(self, wait_seconds: int = 0) -> list[SqsMessage]:
        """What arrived since the last call (the tap's own queue is drained)."""
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=_BATCH,
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=SYSTEM_ATTRIBUTES,
        )
        messages = cast(list[SqsMessage], response.get("Messages", []))
        if messages:
            entries: Any = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ]
            self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        return messages

    def close(self) -> None:
        self._sns.unsubscribe(SubscriptionArn=self.subscription_arn)
        self._sqs.delete_queue(QueueUrl=self.queue_url)


class QueuePeek:
    """Reads a queue's messages once each, deleting nothing; `release()` shows them again."""

    def __init__(
        self, queue_url: str, hold_seconds: int, session: boto3.session.Session | None = None
    ) -> None:
        self.queue_url = queue_url
        self.hold_seconds = hold_seconds
        self._sqs: SQSClient = new_client("sqs", session)
        self._queue = SqsQueue(queue_url, self._sqs)
        # message id -> the latest receipt handle (only the latest one can change visibility)
        self._handles: dict[str, str] = {}
        self._renewed_at = time.monotonic()

    def receive(self, wait_seconds: int = 0) -> list[SqsMessage]:
        """Messages not seen before (a message seen again after its hold is not repeated)."""
        self._renew_holds_if_due()
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=_BATCH,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self.hold_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=SYSTEM_ATTRIBUTES,
        )
        new: list[SqsMessage] = []
        for message in cast(list[SqsMessage], response.get("Messages", [])):
            if message["MessageId"] not in self._handles:
                new.append(message)
            self._handles[message["MessageId"]] = message["ReceiptHandle"]
        return new

    def _renew_holds_if_due(self) -> None:
        """Keep held messages invisible, so a long peek receives none of them twice."""
        if not self.hold_seconds or time.monotonic() - self._renewed_at < self.hold_seconds / 2:
            return
        self._renewed_at = time.monotonic()
        self._change_visibility(list(self._handles.items()), self.hold_seconds)

    def release(self) -> list[str]:
        """Make every message read visible again now; return the ids SQS refused.

        A message deleted meanwhile (a consumer processed it after its hold ran out) is
        refused with ReceiptHandleIsInvalid: it is gone, not hidden.
        """
        handles = list(self._handles.items()) if self.hold_seconds else []
        self._handles.clear()
        return self._change_visibility(handles, 0)

    def _change_visibility(self, handles: list[tuple[str, str]], seconds: int) -> list[str]:
        """Set the visibility of (message id, receipt handle) pairs; return refused ids."""
        refused = set(self._queue.change_visibility([handle for _, handle in handles], seconds))
        return [message_id for message_id, handle in handles if handle in refused]

    def close(self) -> None:
        """`release()`, logging messages that a consumer deleted meanwhile."""
        refused = self.release()
        if refused:
            logger.info("%d peeked message(s) were deleted meanwhile: %s", len(refused), refused)

    def redrive_limit(self) -> int | None:
        """The queue's maxReceiveCount, when it has a redrive policy (a DLQ)."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
        ).get("Attributes", {})
        policy = attributes.get("RedrivePolicy")
        return int(json.loads(policy)["maxReceiveCount"]) if policy else None


def _allow_topic(queue_arn: str, topic_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


def decode_leniently(inbound: InboundMessage, s3: S3Store) -> BaseMessage:
    """Decode (fetching S3 payloads); a malformed message becomes a readable placeholder.

    Recorders and tails must show what was published even when it is malformed.
    """
    try:
        return decode(inbound, resolve_body(inbound, s3))
    except PylonError as exc:
        return BaseMessage(
            body=f"<undecodable: {exc}> {inbound.body[:500]}",
            attributes=dict(inbound.attributes),
            messageId=inbound.message_id,
        )

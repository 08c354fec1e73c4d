"""Dead-letter queues: move their messages back to the queue they failed in (redrive).

After the bug behind a batch of dead letters is fixed, `redrive` hands them back:

    result = redrive("parser-in-dlq")                       # each to its source queue
    result = redrive("parser-in-dlq", to="parser-in")       # or to a named queue

On AWS, SQS's own StartMessageMoveTask does this; MiniStack 1.5.33 does not implement
it, so this is a receive -> send -> delete loop that works on any endpoint. Each message
is sent to its destination (body and every message attribute kept) BEFORE it is deleted
from the dead-letter queue, so a failure in between leaves a duplicate, never a gap. A
message goes back to the queue its `DeadLetterQueueSourceArn` names (set by SQS when it
moved the message) unless `to` names one. The moved message is a new SQS message with a
new id, so a component that processes it records a new ingestionId.

From a FIFO dead-letter queue, messages come out in group order and go back with their
message group and a fresh de-duplication id (the original one may still be inside the
five-minute window, where SQS would silently drop the redriven copy).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.errors import HarnessError
from harness.messaging.sending import resent_in_group
from pylon.aws.clients import new_client
from pylon.fifo import is_fifo

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# While a message is being moved it stays invisible in the dead-letter queue, so one
# redrive never picks up the same message twice.
_MOVE_LEASE_SECONDS = 60
SOURCE_ARN_ATTRIBUTE: Final = "DeadLetterQueueSourceArn"


class RedriveError(HarnessError):
    """A dead-letter queue cannot be redriven (a missing queue, no destination)."""


@dataclass
class RedriveResult:
    """What a redrive did, by dead-letter message id."""

    dead_letter_queue: str
    moved: dict[str, str] = field(default_factory=dict)  # message id -> destination URL
    left: dict[str, str] = field(default_factory=dict)  # message id -> why it stayed

    @property
    def count(self) -> int:
        return len(self.moved)


@dataclass(frozen=True)
class Edit:
    """What to send instead of a dead letter's own body and String attributes."""

    body: str
    attributes: dict[str, str]


def redrive(
    dead_letter_queue: str,
    to: str | None = None,
    *,
    max_messages: int | None = None,
    session: boto3.session.Session | None = None,
    only: Collection[str] | None = None,
    edits: Mapping[str, Edit] | None = None,
) -> RedriveResult:
    """Move messages from `dead_letter_queue` (name or URL) back; return what moved.

    Without `max_messages`, as many as the queue held when the redrive started: a
    message that fails again and returns meanwhile is not moved a second time. `only`
    moves just those message ids (the others are handed back untouched); `edits` sends
    an edited body and attributes for those ids instead of the originals.
    """
    sqs: SQSClient = new_client("sqs", session)
    try:
        return _Redrive(sqs, _queue_url(sqs, dead_letter_queue), to, only, edits).run(max_messages)
    except (ClientError, BotoCoreError) as exc:
        raise RedriveError(
            f"redriving {dead_letter_queue} at {sqs.meta.endpoint_url} failed: {exc}; "
            "messages not yet moved are still in the dead-letter queue"
        ) from exc


class _Redrive:
    def __init__(
        self,
        sqs: SQSClient,
        url: str,
        to: str | None,
        only: Collection[str] | None = None,
        edits: Mapping[str, Edit] | None = None,
    ) -> None:
        self.sqs = sqs
        self.url = url
        self.to = _queue_url(sqs, to) if to else None
        self.result = RedriveResult(url)
        self._only = set(only) if only is not None else None
        self._edits = dict(edits or {})
        self._urls_by_arn: dict[str, str] = {}
        # Messages that stay: kept invisible until the end, so this run does not
        # receive them again, then handed back at once.
        self._kept: list[MessageTypeDef] = []

    def run(self, max_messages: int | None) -> RedriveResult:
        budget = self._initial_depth() if max_messages is None else max_messages
        try:
            while budget > 0:
                messages = self._receive(min(10, budget))
                if not messages:
                    break
                budget -= len(messages)
                for destination, group in self._by_destination(messages).items():
                    self._move(destination, group)
        finally:
            self._release_kept()
        return self.result

    def _initial_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    def _receive(self, count: int) -> list[MessageTypeDef]:
        response = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=1,
            VisibilityTimeout=_MOVE_LEASE_SECONDS,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _by_destination(
        self, messages: Sequence[MessageTypeDef]
    ) -> dict[str, list[MessageTypeDef]]:
        groups: dict[str, list[MessageTypeDef]] = {}
        unplaced: list[MessageTypeDef] = []
        for message in messages:
            if self._only is not None and message["MessageId"] not in self._only:
                self._kept.append(message)  # not asked for: handed back untouched
                continue
            destination = self.to or self._source_url(message)
            if destination is None:
                unplaced.append(message)
                continue
            groups.setdefault(destination, []).append(message)
        self._leave(
            unplaced,
            f"no {SOURCE_ARN_ATTRIBUTE} attribute says where it came from; pass `to`",
        )
        return groups

    def _source_url(self, message: MessageTypeDef) -> str | None:
        arn = message.get("Attributes", {}).get(SOURCE_ARN_ATTRIBUTE)
        if not arn:
            return None
        if arn not in self._urls_by_arn:
            _, _, _, _, account, name = arn.split(":", 5)
            self._urls_by_arn[arn] = self.sqs.get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )["QueueUrl"]
        return self._urls_by_arn[arn]

    def _move(self, destination: str, messages: list[MessageTypeDef]) -> None:
        """Send, then delete exactly the ones SQS accepted; release the others."""
        messages = self._without_group(destination, messages)
        if not messages:
            return
        entries: list[Any] = [
            self._entry(index, message, destination) for index, message in enumerate(messages)
        ]
        response = self.sqs.send_message_batch(QueueUrl=destination, Entries=entries)
        sent = [messages[int(ok["Id"])] for ok in response.get("Successful", [])]
        refused = {
            int(f["Id"]): f.get("Message", f.get("Code", "")) for f in response.get("Failed", [])
        }
        if sent:
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(sent)
                ],
            )
        self.result.moved.update({m["MessageId"]: destination for m in sent})
        for index, reason in refused.items():
            self._leave([messages[index]], f"sending to {destination} failed: {reason}")

    def _entry(self, index: int, message: MessageTypeDef, destination: str) -> dict[str, Any]:
        edit = self._edits.get(message["MessageId"])
        entry: dict[str, Any] = {
            "Id": str(index),
            "MessageBody": message["Body"],
            "MessageAttributes": message.get("MessageAttributes", {}),
        }
        if edit is not None:
            entry["MessageBody"] = edit.body
            entry["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value}
                for name, value in edit.attributes.items()
            }
        if is_fifo(destination):
            entry |= resent_in_group(message.get("Attributes", {})["MessageGroupId"])
        return entry

    def _without_group(
        self, destination: str, messages: list[MessageTypeDef]
    ) -> list[MessageTypeDef]:
        """A FIFO destination needs a group: messages from a standard queue have none."""
        if not is_fifo(destination):
            return messages
        grouped = [m for m in messages if m.get("Attributes", {}).get("MessageGroupId")]
        self._leave(
            [m for m in messages if m not in grouped],
            f"{destination} is a FIFO queue and the message has no message group "
            "(it did not come from a FIFO queue)",
        )
        return grouped

    def _leave(self, messages: Sequence[MessageTypeDef], reason: str) -> None:
        self._kept.extend(messages)
        self.result.left.update({m["MessageId"]: reason for m in messages})

    def _release_kept(self) -> None:
        for start in range(0, len(self._kept), 10):
            chunk = self._kept[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )


@dataclass(frozen=True)
class DeadLetter:
    """A message in a dead-letter queue, as the inspector lists it."""

    message_id: str
    body: str
    attributes: dict[str, str]
    receive_count: int
    source_arn: str | None


def list_dead_letters(
    dead_letter_queue: str, session: boto3.session.Session | None = None, limit: int = 100
) -> list[DeadLetter]:
    """What a dead-letter queue holds, handed back at once (a DLQ has no redrive of its
    own, so reading it moves nothing anywhere; each read counts one more receive)."""
    sqs: SQSClient = new_client("sqs", session)
    url = _queue_url(sqs, dead_letter_queue)
    seen: dict[str, MessageTypeDef] = {}
    while len(seen) < limit:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
            MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        fresh = [m for m in batch if m["MessageId"] not in seen]
        seen.update({m["MessageId"]: m for m in batch})
        if not fresh:
            break
    handles = [m["ReceiptHandle"] for m in seen.values()]
    for start in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(handles[start : start + 10])
            ],
        )
    return [_dead_letter(m) for m in seen.values()]


def _dead_letter(message: MessageTypeDef) -> DeadLetter:
    system = message.get("Attributes", {})
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        attributes={
            k: v["StringValue"]
            for k, v in message.get("MessageAttributes", {}).items()
            if "StringValue" in v
        },
        receive_count=int(system.get("ApproximateReceiveCount", "0")),
        source_arn=system.get(SOURCE_ARN_ATTRIBUTE),
    )


def delete_dead_letter(
    dead_letter_queue: str, message_id: str, session: boto3.session.Session | None = None
) -> bool:
    """Delete one message from a dead-letter queue; False when it is not there."""
    sqs: SQSClient = new_client("sqs", session)
    url = _queue_url(sqs, dead_letter_queue)
    kept = []
    found = False
    for _ in range(20):  # at most 200 messages looked through
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
            "Messages", []
        )
        if not batch:
            break
        for message in batch:
            if message["MessageId"] == message_id:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                found = True
            else:
                kept.append(message["ReceiptHandle"])
        if found:
            break
    for handle in kept:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return found


def _queue_url(sqs: SQSClient, name_or_url: str) -> str:
    if "://" in name_or_url:
        return name_or_url
    try:
        return sqs.get_queue_url(QueueName=name_or_url)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise RedriveError(f"no queue named {name_or_url!r} at {sqs.meta.endpoint_url}") from None

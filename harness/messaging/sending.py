"""Sending Pylon messages into a local pipeline, exactly as a producer would.

A message over SNS's limit is offloaded to S3 first, as a component offloads its
outputs, when `payloads` says where; without it, such a message is refused with an
error saying how to give a location (never the emulator's raw "Message too long").
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import boto3

from harness.errors import HarnessError
from harness.messaging.payloads import OutgoingPayloads, offload_or_refuse
from pylon.aws.sns import SnsTopic
from pylon.aws.sqs import SqsQueue
from pylon.codec import encode
from pylon.errors import PublishError
from pylon.fifo import check_group_id, is_fifo
from pylon.models.messages import BaseMessage
from pylon.wire import WireMessage


class FifoIdError(HarnessError):
    """A group or de-duplication id is missing, malformed, or given for a standard target."""


@dataclass(frozen=True)
class FifoIds:
    """What a FIFO queue or topic needs beside the message: its group, and optionally the
    de-duplication id (default: the target's content-based one when it has that on, else
    a fresh id, so sending the same body twice delivers it twice)."""

    group_id: str | None = None
    deduplication_id: str | None = None


def resent_in_group(group_id: str) -> dict[str, str]:
    """The FIFO fields of a message sent again (a redrive, a replay): its own group, and a
    fresh de-duplication id, since the original one may still be inside SQS's five-minute
    window, where the copy would be dropped without a word."""
    return {"MessageGroupId": group_id, "MessageDeduplicationId": uuid.uuid4().hex}


def send_message(
    queue_url: str,
    message: BaseMessage,
    session: boto3.session.Session | None = None,
    payloads: OutgoingPayloads | None = None,
    fifo: FifoIds | None = None,
) -> str:
    """Send to a queue; return the SQS message id."""
    wire = offload_or_refuse(encode(message, "sent message"), payloads)
    client = (session or boto3.session.Session()).client("sqs")

    def content_based() -> bool:
        attributes = client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ContentBasedDeduplication"]
        )["Attributes"]
        return attributes.get("ContentBasedDeduplication") == "true"

    wire = with_fifo_ids(wire, queue_url, fifo, content_based)
    return SqsQueue(queue_url, client).send([wire])[0]


def publish_message(
    topic_arn: str,
    message: BaseMessage,
    session: boto3.session.Session | None = None,
    payloads: OutgoingPayloads | None = None,
    fifo: FifoIds | None = None,
) -> None:
    """Publish to a topic (subscriptions and their filter policies apply)."""
    wire = offload_or_refuse(encode(message, "published message"), payloads)
    client = (session or boto3.session.Session()).client("sns")

    def content_based() -> bool:
        attributes = client.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        return attributes.get("ContentBasedDeduplication") == "true"

    wire = with_fifo_ids(wire, topic_arn, fifo, content_based)
    SnsTopic(topic_arn, client).publish([wire])


def with_fifo_ids(
    wire: WireMessage, target: str, fifo: FifoIds | None, content_based: Callable[[], bool]
) -> WireMessage:
    """`wire` with the ids its FIFO target needs; a clear error when they are missing or
    wrong, or given for a standard target (which AWS would refuse)."""
    fifo = fifo or FifoIds()
    name = target.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if not is_fifo(target):
        if fifo != FifoIds():
            raise FifoIdError(
                f"{name} is a standard queue or topic: a group or de-duplication id applies "
                "only to FIFO ones (names ending in .fifo)"
            )
        return wire
    try:
        group = check_group_id(fifo.group_id, f"sending to {name}")
    except PublishError as error:
        raise FifoIdError(f"{error} (give one with --group-id)") from None
    deduplication_id = fifo.deduplication_id
    if deduplication_id is not None and not 1 <= len(deduplication_id) <= 128:
        raise FifoIdError(
            f"sending to {name}: a de-duplication id is 1 to 128 characters, "
            f"got {len(deduplication_id)}"
        )
    if deduplication_id is None and not content_based():
        deduplication_id = uuid.uuid4().hex
    return dataclasses.replace(wire, group_id=group, deduplication_id=deduplication_id)

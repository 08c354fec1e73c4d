"""Sending Pylon messages into a local pipeline, exactly as a producer would.

A message over SNS's limit is offloaded to S3 first, as a component offloads its
outputs, when `payloads` says where; without it, such a message is refused with an
error saying how to give a location (never the emulator's raw "Message too long").
"""

from __future__ import annotations

import boto3

from harness.messaging.payloads import OutgoingPayloads, offload_or_refuse
from pylon.aws.sns import SnsTopic
from pylon.aws.sqs import SqsQueue
from pylon.codec import encode
from pylon.models.messages import BaseMessage


def send_message(
    queue_url: str,
    message: BaseMessage,
    session: boto3.session.Session | None = None,
    payloads: OutgoingPayloads | None = None,
) -> str:
    """Send to a queue; return the SQS message id."""
    wire = offload_or_refuse(encode(message, "sent message"), payloads)
    client = (session or boto3.session.Session()).client("sqs")
    return SqsQueue(queue_url, client).send([wire])[0]


def publish_message(
    topic_arn: str,
    message: BaseMessage,
    session: boto3.session.Session | None = None,
    payloads: OutgoingPayloads | None = None,
) -> None:
    """Publish to a topic (subscriptions and their filter policies apply)."""
    wire = offload_or_refuse(encode(message, "published message"), payloads)
    client = (session or boto3.session.Session()).client("sns")
    SnsTopic(topic_arn, client).publish([wire])

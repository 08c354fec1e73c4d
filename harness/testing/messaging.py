"""Sending Pylon messages into a local pipeline, exactly as a producer would."""

from __future__ import annotations

import boto3

from pylon.aws.sns import SnsTopic
from pylon.aws.sqs import SqsQueue
from pylon.codec import encode
from pylon.models.messages import BaseMessage


def send_message(
    queue_url: str, message: BaseMessage, session: boto3.session.Session | None = None
) -> str:
    """Send to a queue; return the SQS message id."""
    client = (session or boto3.session.Session()).client("sqs")
    return SqsQueue(queue_url, client).send([encode(message, "sent message")])[0]


def publish_message(
    topic_arn: str, message: BaseMessage, session: boto3.session.Session | None = None
) -> None:
    """Publish to a topic (subscriptions and their filter policies apply)."""
    client = (session or boto3.session.Session()).client("sns")
    SnsTopic(topic_arn, client).publish([encode(message, "published message")])

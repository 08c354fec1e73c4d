"""Resolving a CLI target — a queue name/URL or a topic name/ARN — and sending to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import boto3

from harness.errors import HarnessError
from harness.messaging.payloads import OutgoingPayloads
from harness.messaging.sending import FifoIds, publish_message, send_message
from harness.spec import PipelineSpec
from pylon.models.messages import BaseMessage


class TargetError(HarnessError):
    """No queue or topic of that name exists at the endpoint."""


@dataclass(frozen=True)
class Target:
    kind: Literal["queue", "topic"]
    name: str
    address: str  # queue URL or topic ARN

    def send(
        self,
        message: BaseMessage,
        payloads: OutgoingPayloads | None = None,
        fifo: FifoIds | None = None,
    ) -> str:
        """Send (a queue) or publish (a topic); a body over the limit goes to `payloads`."""
        if self.kind == "queue":
            message_id = send_message(self.address, message, payloads=payloads, fifo=fifo)
            return f"(message id {message_id})"
        publish_message(self.address, message, payloads=payloads, fifo=fifo)
        return "(published)"


def spec_target_name(spec: PipelineSpec | None, name: str) -> str:
    """With a spec, a component name means its input queue; anything else is taken as given."""
    if spec is None:
        return name
    component = spec.components.get(name)
    if component is None:
        return name
    if component.input_queue is None:
        raise TargetError(f"component {name!r} is a source; it has no input queue")
    return component.input_queue


def resolve_target(text: str, session: boto3.session.Session | None = None) -> Target:
    """`arn:…:sns:…` and `http(s)://…` are taken as given; a bare name is looked up."""
    session = session or boto3.session.Session()
    if text.startswith("arn:") and ":sns:" in text:
        return Target("topic", text.rsplit(":", 1)[-1], text)
    if text.startswith(("http://", "https://")):
        return Target("queue", text.rstrip("/").rsplit("/", 1)[-1], text)
    queue = _queue_url(session, text)
    if queue:
        return Target("queue", text, queue)
    topic = _topic_arn(session, text)
    if topic:
        return Target("topic", text, topic)
    raise TargetError(
        f"no queue or topic named {text!r} at {session.client('sqs').meta.endpoint_url}"
    )


def _queue_url(session: boto3.session.Session, name: str) -> str | None:
    sqs = session.client("sqs")
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return None


def _topic_arn(session: boto3.session.Session, name: str) -> str | None:
    paginator = session.client("sns").get_paginator("list_topics")
    for page in paginator.paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    return None

"""What the inspector's buttons do: send, replay from a hop, and exporting a journey as a
pytest file. Each is a plain function, callable without the web app."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from harness.inspector.store import Journey, Seen
from harness.messaging.payloads import OutgoingPayloads, payload_location
from harness.messaging.sending import FifoIdError, FifoIds, resent_in_group
from harness.messaging.targets import Target
from harness.provision import ProvisionedPipeline
from pylon.codec import PYLON_ATTRIBUTES, decode_body, encode
from pylon.errors import PylonError
from pylon.models.messages import BaseMessage, ObjectType


class FormError(ValueError):
    """What the user typed cannot be sent; the message says what and where."""


@dataclass(frozen=True)
class MessageForm:
    target: str
    object_type: str
    attributes: str
    body: str
    group_id: str = ""  # FIFO targets only


def parse_attributes(text: str) -> dict[str, str]:
    """`NAME=VALUE` lines; blank lines ignored."""
    attributes = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise FormError(f"attributes line {number}: expected NAME=VALUE, got {line!r}")
        attributes[name.strip()] = value.strip()
    return attributes


def validated(form: MessageForm) -> BaseMessage:
    """The message the form describes, checked against Pylon's message schema."""
    try:
        kind = ObjectType(form.object_type)
    except ValueError:
        raise FormError(
            f"objectType {form.object_type!r} is not one of {[t.value for t in ObjectType]}"
        ) from None
    attributes = parse_attributes(form.attributes)
    # Pylon's own attributes (as an edited dead letter shows them) are written again by
    # the encoder from the message itself; only the ingestionId is kept.
    ingestion_id = attributes.pop("ingestionId", None) or None
    for name in PYLON_ATTRIBUTES:
        attributes.pop(name, None)
    try:
        body = decode_body(kind, form.body, None, "the message")
        message = BaseMessage(
            body=body, objectType=kind, attributes=attributes, ingestionId=ingestion_id
        )
        encode(message, "the message")  # attribute limits, reserved names, empty bodies
    except PylonError as exc:
        raise FormError(str(exc)) from None
    return message


def targets(pipeline: ProvisionedPipeline) -> list[Target]:
    topics = [Target("topic", name, arn) for name, arn in pipeline.topics.items()]
    queues = [
        Target("queue", c.spec.input_queue, c.queue_url)
        for c in pipeline.components.values()
        if c.spec.input_queue and c.queue_url
    ]
    return topics + queues


def send(pipeline: ProvisionedPipeline, form: MessageForm, session: boto3.session.Session) -> str:
    """Send the form's message; large bodies go to the spec's payload bucket. A message
    without an ingestionId gets a new one, so that its journey can be followed."""
    message = validated(form)
    # A journey starts here: without an ingestionId it could not be followed.
    message.ingestionId = message.ingestionId or str(uuid.uuid4())
    found = {f"{t.kind}:{t.name}": t for t in targets(pipeline)}
    target = found.get(form.target)
    if target is None:
        raise FormError(f"no topic or queue {form.target!r} in this pipeline")
    location = payload_location(pipeline.spec.payload_s3_path, None, "send")
    payloads = OutgoingPayloads(location, session) if location else None
    try:
        return target.send(message, payloads, FifoIds(form.group_id.strip() or None))
    except FifoIdError as error:
        raise FormError(str(error).replace("--group-id", "the group field")) from None


def replay_seen(pipeline: ProvisionedPipeline, seen: Seen, session: boto3.session.Session) -> str:
    """Send a recorded message again where it was: its topic, or its queue."""
    attributes: dict[str, Any] = {
        name: {"DataType": seen.data_types.get(name, "String"), "StringValue": value}
        for name, value in seen.attributes.items()
    }
    # FIFO: in the same group, with a fresh de-duplication id (a replay is meant to arrive).
    fifo: dict[str, Any] = resent_in_group(seen.group_id) if seen.group_id else {}
    if seen.where == "topic":
        arn = pipeline.topics[seen.name]
        session.client("sns").publish(
            TopicArn=arn, Message=seen.body, MessageAttributes=attributes, **fifo
        )
        return f"published again on topic {seen.name}"
    url = pipeline.queues[seen.name]
    session.client("sqs").send_message(
        QueueUrl=url, MessageBody=seen.body, MessageAttributes=attributes, **fifo
    )
    return f"sent again to queue {seen.name}"


# ---------------------------------------------------------------- export as a test


def export_test(
    journey: Journey,
    spec_path: str,
    spec_topics: Collection[str],
    input_body: str | None = None,
) -> str:
    """A pytest file that publishes the journey's input and asserts the same outputs.

    Topics are named as in the spec (`spec_topics`: a test run prefixes resource names,
    and so does the exported test's own run). `input_body` is the input's payload when
    it was offloaded to S3 (the exported test sends it inline; Pylon offloads it again)."""
    inputs = [m for m in journey.messages if m.where == "topic"]
    if not inputs or not journey.hops:
        raise FormError(
            f"journey {journey.ingestion_id} has no published input with recorded outputs to "
            "export; open the journey of a message on a topic that a component processed"
        )
    seen = inputs[0]
    hop = next((h for h in journey.hops if h.outputs and h.artifact), None)
    if hop is None:
        raise FormError(
            f"no component published outputs from journey {journey.ingestion_id} (a sink's "
            "journey ends in its side effects); export the journey of an earlier message"
        )
    outputs = hop.outputs
    output_topic = outputs[0].name
    kinds = sorted({o.object_type for o in outputs})
    expected = sorted(_comparable(o.body) for o in outputs)
    attributes = {k: v for k, v in seen.attributes.items() if k not in _PYLON_SET}
    name = re.sub(r"\W", "_", journey.ingestion_id)[:24]
    return _TEST.format(
        ingestion_id=journey.ingestion_id,
        spec=spec_path,
        name=name,
        topic=spec_name(seen.name, spec_topics),
        body=repr(seen.body if input_body is None else input_body),
        object_type=seen.object_type,
        attributes=repr(attributes),
        output_topic=spec_name(output_topic, spec_topics),
        count=len(outputs),
        kinds=repr(kinds),
        expected=repr(expected),
        artifact=hop.artifact,
    )


def spec_name(topic: str, spec_topics: Collection[str]) -> str:
    """The spec's name of a (possibly prefixed) topic: the longest that ends it."""
    matches = [t for t in spec_topics if topic == t or topic.endswith(f"-{t}") or topic.endswith(t)]
    return max(matches, key=len) if matches else topic


# What Pylon sets itself on every message: not part of the input a test sends.
_PYLON_SET = frozenset(
    {"objectType", "payloadType", "payloadMimeType", "ingestionId", "payloadS3Path"}
)


def _comparable(body: str) -> str:
    """A body without what changes from run to run (ingestion ids), for comparison."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return json.dumps(_without_ids(data), sort_keys=True)


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "ingestionId"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


_TEST = '''"""Exported by the Pylon inspector from journey {ingestion_id}: the same input, the
same outputs. Run it with pytest (the Pylon plugin gives `pylon_pipeline`)."""

import json

from pylon import BaseMessage, ObjectType

SPEC = {spec!r}


def comparable(body):
    """The body without what changes from run to run (ingestion ids)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body

    def strip(value):
        if isinstance(value, dict):
            return {{k: strip(v) for k, v in value.items() if k != "ingestionId"}}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(data), sort_keys=True)


def test_journey_{name}(pylon_pipeline):
    pipeline = pylon_pipeline(SPEC)

    pipeline.publish(
        {topic!r},
        BaseMessage(body={body}, objectType=ObjectType({object_type!r}), attributes={attributes}),
    )

    outputs = pipeline.recorder({output_topic!r}).wait_for(
        {count}, lambda m: m.objectType.value in {kinds}
    )
    assert sorted(comparable(str(m.body)) for m in outputs) == {expected}
    step = pipeline.ingestion_steps()[outputs[0].ingestionId]
    assert step.artifactName == {artifact!r}
'''


def as_mapping(form: Mapping[str, Any]) -> MessageForm:
    return MessageForm(
        target=str(form.get("target", "")),
        object_type=str(form.get("object_type", "rawContent")),
        attributes=str(form.get("attributes", "")),
        body=str(form.get("body", "")),
        group_id=str(form.get("group_id", "")),
    )

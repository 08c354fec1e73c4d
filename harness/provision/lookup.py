"""Finding what `provision` created for a spec, without creating or changing anything.

`pylon ui SPEC` attaches to a pipeline that `pylon up` (or `pylon provision`, or a stack)
is running: provisioning again there could rewrite its queues' settings or its config
under its feet, so the inspector only looks the resources up, and says what is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.provision.provisioner import (
    ProvisionedComponent,
    ProvisionedPipeline,
    ProvisionError,
    pylon_config,
)
from harness.spec import ComponentSpec, PipelineSpec
from pylon.aws.clients import new_client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class NotProvisionedError(ProvisionError):
    """The spec's resources are not (all) at the endpoint."""


def find_provisioned(
    spec: PipelineSpec, session: boto3.session.Session | None = None
) -> ProvisionedPipeline:
    """The spec's topics, queues and components as they exist at the endpoint."""
    session = session or boto3.session.Session()
    sqs: SQSClient = new_client("sqs", session)
    sns = new_client("sns", session)
    try:
        existing = {
            topic["TopicArn"].rsplit(":", 1)[-1]: topic["TopicArn"]
            for page in sns.get_paginator("list_topics").paginate()
            for topic in page.get("Topics", [])
        }
        topics = {name: _found(existing, name, spec) for name in spec.all_topics}
        queues: dict[str, str] = {}
        components = {
            name: _component(spec, component, topics, queues, sqs)
            for name, component in spec.components.items()
        }
    except (ClientError, BotoCoreError) as exc:
        raise NotProvisionedError(
            f"cannot read pipeline {spec.name!r} at {sqs.meta.endpoint_url}: {exc}"
        ) from exc
    return ProvisionedPipeline(spec, topics, queues, components, spec.buckets)


def _found(existing: dict[str, str], name: str, spec: PipelineSpec) -> str:
    if name not in existing:
        raise NotProvisionedError(
            f"topic {name!r} of {spec.source} does not exist at this endpoint; start the "
            f"pipeline first (`pylon up {spec.source}`, or `pylon provision {spec.source}`)"
        )
    return existing[name]


def _component(
    spec: PipelineSpec,
    component: ComponentSpec,
    topics: dict[str, str],
    queues: dict[str, str],
    sqs: SQSClient,
) -> ProvisionedComponent:
    url = dlq_url = arn = None
    if component.input_queue and component.dead_letter_queue:
        url = _queue_url(sqs, component.input_queue, spec)
        dlq_url = _queue_url(sqs, component.dead_letter_queue, spec)
        queues[component.input_queue] = url
        queues[component.dead_letter_queue] = dlq_url
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn = attributes["Attributes"]["QueueArn"]
    output = topics[component.output_topic] if component.output_topic else None
    config = pylon_config(spec, component, output)
    return ProvisionedComponent(component, url, arn, dlq_url, output, config, "")


def _queue_url(sqs: SQSClient, name: str, spec: PipelineSpec) -> str:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise NotProvisionedError(
            f"queue {name!r} of {spec.source} does not exist at this endpoint; start the "
            f"pipeline first (`pylon up {spec.source}`, or `pylon provision {spec.source}`)"
        ) from None

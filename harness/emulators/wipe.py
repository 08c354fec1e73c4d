"""Wiping an emulator through the AWS APIs, for emulators without a reset endpoint.

LocalStack's community edition has no state reset (its `/_localstack/state/reset` is a
paid feature), so between tests the harness deletes what the harness creates: queues,
topics and their subscriptions, buckets with every object, SSM parameters and
CloudFormation stacks. Slower than MiniStack's reset (tens of milliseconds per
resource) but it works on any emulator, and it touches only the services named.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from harness.endpoints import AwsEndpoint

Wiper = Callable[[Any], None]


def wipe(endpoint: AwsEndpoint, services: Iterable[str]) -> None:
    """Delete every resource of `services` (boto3 names) at `endpoint`."""
    session: Any = boto3.session.Session(
        aws_access_key_id=endpoint.access_key_id,
        aws_secret_access_key=endpoint.secret_access_key,
        region_name=endpoint.region,
    )
    for service in services:
        client = session.client(service, endpoint_url=endpoint.url_for(service))
        _WIPERS[service](client)


def _sqs(client: Any) -> None:
    for url in client.list_queues().get("QueueUrls", []):
        with _gone():
            client.delete_queue(QueueUrl=url)


def _sns(client: Any) -> None:
    for page in client.get_paginator("list_subscriptions").paginate():
        for subscription in page.get("Subscriptions", []):
            with _gone():
                client.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    for page in client.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            with _gone():
                client.delete_topic(TopicArn=topic["TopicArn"])


def _s3(client: Any) -> None:
    for bucket in client.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                client.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        with _gone():
            client.delete_bucket(Bucket=name)


def _ssm(client: Any) -> None:
    names = [
        parameter["Name"]
        for page in client.get_paginator("describe_parameters").paginate()
        for parameter in page.get("Parameters", [])
    ]
    for start in range(0, len(names), 10):  # DeleteParameters takes at most 10
        client.delete_parameters(Names=names[start : start + 10])


def _cloudformation(client: Any) -> None:
    for page in client.get_paginator("list_stacks").paginate():
        for stack in page.get("StackSummaries", []):
            if stack["StackStatus"] != "DELETE_COMPLETE":
                with _gone():
                    client.delete_stack(StackName=stack["StackName"])


@contextlib.contextmanager
def _gone() -> Any:
    """A resource deleted by someone else meanwhile is as good as deleted."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if "NotFound" not in code and "NonExistent" not in code and "NoSuch" not in code:
            raise


_WIPERS: dict[str, Wiper] = {
    "sqs": _sqs,
    "sns": _sns,
    "s3": _s3,
    "ssm": _ssm,
    "cloudformation": _cloudformation,
}
WIPEABLE_SERVICES = tuple(_WIPERS)

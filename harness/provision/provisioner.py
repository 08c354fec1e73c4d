"""Provisioning: create on an AWS endpoint everything a pipeline spec needs, and remove it.

`provision` converges the endpoint on the spec and can be run any number of times: it
reuses what exists, updates attributes in place, and never duplicates a subscription.
It builds what real AWS needs, not just what an emulator tolerates: dead-letter queues
with a RedrivePolicy, queue policies letting exactly the subscribed topics deliver, raw
message delivery and filter policies on each SNS->SQS subscription.

    pipeline = provision(load_spec("pipeline.yaml"))
    env = pipeline.components["parser"].environment(endpoint)
    teardown(pipeline)

Which endpoint is used is boto3's decision (`AWS_ENDPOINT_URL`, the session); anything
off this machine is refused unless the caller says `allow_remote=True`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.endpoints import AwsEndpoint, is_loopback
from harness.errors import HarnessError
from harness.spec import ComponentSpec, FilterScope, PipelineSpec, Subscription
from pylon.aws.clients import new_client, new_session
from pylon.fifo import is_fifo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_ssm import SSMClient

    QueueAttributes = dict[QueueAttributeNameType, str]


class ProvisionError(HarnessError):
    """Resources for a pipeline cannot be created or removed at this endpoint."""


# A dead-letter queue keeps messages for the SQS maximum (14 days) so that a failure is
# still there to inspect after a long weekend; the default (4 days) may not be.
_DLQ_RETENTION_SECONDS = str(14 * 24 * 3600)
_LINEAGE_KEY = "ingestionId"
# The services a pipeline's resources live in (`harness.emulators` preloads their models).
PROVISIONED_SERVICES = ("sqs", "sns", "s3", "ssm", "dynamodb")


@dataclass(frozen=True)
class ProvisionedComponent:
    """One component's resources, and the PYLON_CONFIG that points it at them."""

    spec: ComponentSpec
    queue_url: str | None
    queue_arn: str | None
    dead_letter_queue_url: str | None
    output_topic_arn: str | None
    pylon_config: dict[str, Any]
    pylon_config_value: str

    def environment(self, endpoint: AwsEndpoint) -> dict[str, str]:
        """Env for running this component: endpoint, PYLON_CONFIG, spec env, IMAGE_NAME.

        The endpoint variables and PYLON_CONFIG are applied last: a spec's `env` may add
        to the environment but cannot point the component at other resources or at
        another endpoint than the one its resources were provisioned on.
        """
        env = dict(self.spec.env) | {"PYLON_CONFIG": self.pylon_config_value} | endpoint.env()
        env.setdefault("IMAGE_NAME", self.spec.name)
        return env


@dataclass(frozen=True)
class ProvisionedPipeline:
    """What `provision` created, by name, with the ARNs and URLs AWS returned."""

    spec: PipelineSpec
    topics: dict[str, str]
    queues: dict[str, str]
    components: dict[str, ProvisionedComponent]
    buckets: tuple[str, ...]
    # (topic name, queue name) -> subscription ARN
    subscriptions: dict[tuple[str, str], str] = field(default_factory=dict)
    parameters: tuple[str, ...] = ()
    lineage_table_arn: str | None = None

    def topic_arn(self, name: str) -> str:
        return _lookup(self.topics, name, "topic")

    def queue_url(self, name: str) -> str:
        return _lookup(self.queues, name, "queue")


def _lookup(known: Mapping[str, str], name: str, kind: str) -> str:
    if name not in known:
        raise ProvisionError(
            f"no {kind} named {name!r} in this pipeline; known {kind}s: {sorted(known)} "
            "(names from the spec, with the prefix applied if it was prefixed)"
        )
    return known[name]


# ---------------------------------------------------------------- clients


@dataclass(frozen=True)
class _Clients:
    sqs: SQSClient
    sns: SNSClient
    s3: S3Client
    ssm: SSMClient
    dynamodb: DynamoDBClient

    @classmethod
    def create(cls, session: boto3.session.Session | None) -> _Clients:
        """Creating a client reads the endpoint configuration but sends nothing."""
        session = session or new_session()
        return cls(*(new_client(service, session) for service in PROVISIONED_SERVICES))

    def refuse_remote(self) -> None:
        """Raise before any request if a client would reach beyond this machine.

        Every service is checked: `AWS_ENDPOINT_URL_<SERVICE>` can send one of them
        elsewhere, and without any endpoint variable they all go to real AWS.
        """
        for service in PROVISIONED_SERVICES:
            url = getattr(self, service).meta.endpoint_url
            if not is_loopback(url):
                raise ProvisionError(
                    f"the {service} endpoint {url} is not on this machine; refusing to create "
                    "or delete resources there. Point AWS_ENDPOINT_URL at a local emulator, "
                    "or pass allow_remote=True to provision a real account on purpose"
                )


# ---------------------------------------------------------------- provision


def provision(
    spec: PipelineSpec,
    session: boto3.session.Session | None = None,
    *,
    allow_remote: bool = False,
    prune: bool = True,
) -> ProvisionedPipeline:
    """Create (or update) every resource `spec` needs; safe to run repeatedly.

    `prune=False` keeps a queue's subscriptions the spec no longer names (hot reload
    removes resources only when asked: `pylon up --watch --prune`)."""
    _check_one_subscription_per_topic(spec)
    clients = _Clients.create(session)
    if not allow_remote:
        clients.refuse_remote()
    try:
        return _Provisioner(clients, spec, prune).run()
    except (ClientError, BotoCoreError) as exc:
        raise ProvisionError(
            f"provisioning pipeline {spec.name!r} ({spec.source}) failed at "
            f"{clients.sqs.meta.endpoint_url}: {exc}"
        ) from exc


def _check_one_subscription_per_topic(spec: PipelineSpec) -> None:
    """SNS keeps one subscription (so one filter) per topic and queue; two would clash."""
    for component in spec.components.values():
        topics = [s.topic for s in component.subscriptions]
        repeated = sorted({t for t in topics if topics.count(t) > 1})
        if repeated:
            raise ProvisionError(
                f"{spec.source}: components.{component.name}.subscribe lists topic(s) "
                f"{repeated} more than once; merge them into one entry (one filter policy)"
            )


@dataclass(frozen=True)
class _Queue:
    name: str
    url: str
    arn: str
    dead_letter_url: str


class _Provisioner:
    def __init__(self, clients: _Clients, spec: PipelineSpec, prune: bool = True) -> None:
        self.clients = clients
        self.spec = spec
        self.prune = prune
        self.topics: dict[str, str] = {}
        self.queues: dict[str, str] = {}
        self.subscriptions: dict[tuple[str, str], str] = {}
        # Per topic, its SQS subscriptions as (endpoint queue ARN, subscription ARN), listed
        # once per run: each queue reads only its own, and a run never touches another's.
        self._topic_subscriptions: dict[str, list[tuple[str, str]]] = {}

    def run(self) -> ProvisionedPipeline:
        self.topics = {name: self._topic(name) for name in self.spec.all_topics}
        for bucket in self.spec.buckets:
            self._bucket(bucket)
        for parameter in self.spec.parameters:
            self._parameter(parameter.name, parameter.value, secure=parameter.secure)
        components = {name: self._component(c) for name, c in self.spec.components.items()}
        return ProvisionedPipeline(
            spec=self.spec,
            topics=self.topics,
            queues=self.queues,
            components=components,
            buckets=self.spec.buckets,
            subscriptions=self.subscriptions,
            parameters=tuple(p.name for p in self.spec.parameters)
            + tuple(c.pylon_config_value for c in components.values() if c.spec.config_in_ssm),
            lineage_table_arn=self._lineage_table(),
        )

    def _topic(self, name: str) -> str:
        """Create (or find) the topic; a `.fifo` one as a FIFO topic.

        FifoTopic can only be given at creation; ContentBasedDeduplication is set apart,
        so changing it in the spec updates the existing topic instead of failing.
        """
        sns = self.clients.sns
        if not is_fifo(name):
            return sns.create_topic(Name=name)["TopicArn"]
        arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
        deduplicated = "true" if name in self.spec.deduplicated_topics else "false"
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue=deduplicated
        )
        return arn

    def _component(self, component: ComponentSpec) -> ProvisionedComponent:
        queue = self._input_queue(component)
        output_arn = self.topics[component.output_topic] if component.output_topic else None
        config = pylon_config(self.spec, component, output_arn)
        return ProvisionedComponent(
            spec=component,
            queue_url=queue.url if queue else None,
            queue_arn=queue.arn if queue else None,
            dead_letter_queue_url=queue.dead_letter_url if queue else None,
            output_topic_arn=output_arn,
            pylon_config=config,
            pylon_config_value=self._config_value(component, config),
        )

    def _input_queue(self, component: ComponentSpec) -> _Queue | None:
        """The queue with its dead-letter queue, policy and subscriptions (None for sources)."""
        if not component.input_queue or not component.dead_letter_queue:
            return None
        dlq_url, dlq_arn = self._queue(
            component.dead_letter_queue, {"MessageRetentionPeriod": _DLQ_RETENTION_SECONDS}
        )
        url, arn = self._queue(component.input_queue, _input_attributes(component, dlq_arn))
        queue = _Queue(component.input_queue, url, arn, dlq_url)
        self._wire_subscriptions(component.subscriptions, queue)
        return queue

    def _queue(self, name: str, attributes: QueueAttributes) -> tuple[str, str]:
        """Create the queue or update an existing one; return its URL and ARN.

        AWS's CreateQueue fails on an existing queue whose attributes differ, so an
        existing queue gets SetQueueAttributes instead.
        """
        sqs = self.clients.sqs
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            # FifoQueue is fixed at creation (SetQueueAttributes refuses it).
            created = {**attributes, "FifoQueue": "true"} if is_fifo(name) else attributes
            url = sqs.create_queue(QueueName=name, Attributes=created)["QueueUrl"]
        else:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        self.queues[name] = url
        return url, _queue_arn(sqs, url)

    def _wire_subscriptions(self, subscriptions: Sequence[Subscription], queue: _Queue) -> None:
        """Subscribe the queue to exactly `subscriptions` among the pipeline's topics
        (without pruning, subscriptions from an earlier spec stay, and stay admitted)."""
        wanted = {self.topics[s.topic]: s for s in subscriptions}
        existing = {
            arn: [sub for endpoint, sub in self._sqs_subscriptions(arn) if endpoint == queue.arn]
            for arn in self.topics.values()
        }
        stale = {arn: subs for arn, subs in existing.items() if arn not in wanted and subs}
        admitted = list(wanted) + ([] if self.prune else list(stale))
        # The policy goes first so that no message published after subscribing is refused.
        self.clients.sqs.set_queue_attributes(
            QueueUrl=queue.url, Attributes={"Policy": _queue_policy(queue.arn, admitted)}
        )
        for topic_arn, subscription in wanted.items():
            arn = self._subscribe(topic_arn, queue.arn, subscription, existing[topic_arn])
            self.subscriptions[(subscription.topic, queue.name)] = arn
        for subscription_arns in stale.values() if self.prune else ():
            for arn in subscription_arns:
                self.clients.sns.unsubscribe(SubscriptionArn=arn)

    def _sqs_subscriptions(self, topic_arn: str) -> list[tuple[str, str]]:
        if topic_arn not in self._topic_subscriptions:
            self._topic_subscriptions[topic_arn] = _sqs_subscriptions(self.clients.sns, topic_arn)
        return self._topic_subscriptions[topic_arn]

    def _subscribe(
        self, topic_arn: str, queue_arn: str, subscription: Subscription, existing: list[str]
    ) -> str:
        """Subscribe, or update the existing subscription's attributes in place.

        AWS's Subscribe fails when the same endpoint is already subscribed with other
        attributes, hence the update path.
        """
        sns = self.clients.sns
        wanted = subscription_attributes(subscription)
        if not existing:
            return sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes=wanted,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
        arn = existing[0]
        current = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        if "FilterPolicy" not in wanted and current.get("FilterPolicy", "{}") not in ("", "{}"):
            wanted["FilterPolicy"] = "{}"  # how SNS removes a filter policy
        for name, value in wanted.items():
            if current.get(name) != value:
                sns.set_subscription_attributes(
                    SubscriptionArn=arn, AttributeName=name, AttributeValue=value
                )
        return arn

    def _bucket(self, name: str) -> None:
        s3 = self.clients.s3
        region = s3.meta.region_name
        # us-east-1 is the one region that refuses an explicit LocationConstraint.
        location: dict[str, Any] = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        try:
            s3.create_bucket(Bucket=name, **location)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass  # outside us-east-1 this is how AWS says "already there"
        except s3.exceptions.BucketAlreadyExists:
            raise ProvisionError(
                f"{self.spec.source}: bucket {name!r} belongs to another account (bucket names "
                "are global); rename it in the spec or provision with a prefix"
            ) from None

    def _parameter(self, name: str, value: str, *, secure: bool) -> None:
        self.clients.ssm.put_parameter(
            Name=name, Value=value, Type="SecureString" if secure else "String", Overwrite=True
        )

    def _config_value(self, component: ComponentSpec, config: dict[str, Any]) -> str:
        text = json.dumps(config, sort_keys=True)
        if not component.config_in_ssm:
            return text
        name = config_parameter_name(self.spec, component)
        # SecureString: config commonly carries credentials.
        self._parameter(name, text, secure=True)
        return name

    def _lineage_table(self) -> str | None:
        name = self.spec.lineage_table
        if not name:
            return None
        dynamodb = self.clients.dynamodb
        # An existing table is fine here; its key schema is checked below.
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": _LINEAGE_KEY, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": _LINEAGE_KEY, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        table = dynamodb.describe_table(TableName=name)["Table"]
        keys = [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])]
        if keys != [(_LINEAGE_KEY, "HASH")]:
            raise ProvisionError(
                f"{self.spec.source}: lineage table {name!r} exists with key schema {keys}, "
                f"not a single '{_LINEAGE_KEY}' partition key; delete it or name another table"
            )
        return table["TableArn"]


def pylon_config(
    spec: PipelineSpec, component: ComponentSpec, output_arn: str | None
) -> dict[str, Any]:
    """A component's PYLON_CONFIG: the spec's config plus the wiring keys.

    A spec may override OUTPUT_PAYLOAD_S3_PATH per component, but the queue name and
    topic ARN always come from what was provisioned (here, or by a CloudFormation stack).
    """
    config: dict[str, Any] = {}
    if spec.payload_s3_path:
        config["OUTPUT_PAYLOAD_S3_PATH"] = spec.payload_s3_path
    config.update(component.config)
    if component.input_queue:
        config["INPUT_QUEUE_NAME"] = component.input_queue
    if output_arn:
        config["OUTPUT_TOPIC_ARN"] = output_arn
    return config


def config_parameter_name(spec: PipelineSpec, component: ComponentSpec) -> str:
    """Where PYLON_CONFIG is stored when `config_in_ssm` is set."""
    return f"/pylon/{spec.name}/{component.name}"


def _input_attributes(component: ComponentSpec, dlq_arn: str) -> QueueAttributes:
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": component.max_receive_count}
    attributes: QueueAttributes = {
        "VisibilityTimeout": str(component.visibility_timeout),
        "RedrivePolicy": json.dumps(redrive),
    }
    if component.fifo:
        deduplicated = component.content_based_deduplication
        attributes["ContentBasedDeduplication"] = "true" if deduplicated else "false"
    return attributes


def _queue_arn(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def _queue_policy(queue_arn: str, topic_arns: Sequence[str]) -> str:
    """Let SNS deliver to the queue from exactly these topics ('' removes the policy)."""
    if not topic_arns:
        return ""
    statement = {
        "Sid": "PylonSubscribedTopics",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": list(topic_arns)}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def subscription_attributes(subscription: Subscription) -> dict[str, str]:
    """SNS's attributes for a spec subscription (the CloudFormation export uses them too)."""
    # Pylon's metadata travels as message attributes: raw delivery keeps them as SQS
    # attributes (not inside an envelope), and an attribute-scope filter applies to them.
    attributes = {"RawMessageDelivery": "true" if subscription.raw else "false"}
    if subscription.filter_policy:
        attributes["FilterPolicy"] = json.dumps(subscription.filter_policy, sort_keys=True)
        attributes["FilterPolicyScope"] = _FILTER_POLICY_SCOPES[subscription.filter_scope]
    return attributes


_FILTER_POLICY_SCOPES = {
    FilterScope.ATTRIBUTES: "MessageAttributes",
    FilterScope.BODY: "MessageBody",
}


def _sqs_subscriptions(sns: SNSClient, topic_arn: str) -> list[tuple[str, str]]:
    """(queue ARN, subscription ARN) of the topic's SQS subscriptions (on AWS, at most one
    per queue)."""
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    return [
        (s.get("Endpoint", ""), s["SubscriptionArn"])
        for page in pages
        for s in page.get("Subscriptions", [])
        if s.get("Protocol") == "sqs"
    ]


# ---------------------------------------------------------------- teardown


def teardown(
    pipeline: ProvisionedPipeline,
    session: boto3.session.Session | None = None,
    *,
    allow_remote: bool = False,
) -> None:
    """Delete everything `provision` created; resources already gone are skipped."""
    clients = _Clients.create(session)
    if not allow_remote:
        clients.refuse_remote()
    try:
        _unsubscribe(clients.sns, pipeline.subscriptions.values())
        _delete_queues(clients.sqs, pipeline.queues.values())
        for topic_arn in pipeline.topics.values():
            clients.sns.delete_topic(TopicArn=topic_arn)
        for bucket in pipeline.buckets:
            _delete_bucket(clients.s3, bucket)
        _delete_parameters(clients.ssm, pipeline.parameters)
        _delete_table(clients.dynamodb, pipeline.spec.lineage_table)
    except (ClientError, BotoCoreError) as exc:
        raise ProvisionError(
            f"tearing down pipeline {pipeline.spec.name!r} failed at "
            f"{clients.sqs.meta.endpoint_url}: {exc}"
        ) from exc


def _unsubscribe(sns: SNSClient, subscription_arns: Iterable[str]) -> None:
    for arn in subscription_arns:
        # Already gone when its topic or queue was deleted by hand.
        with contextlib.suppress(sns.exceptions.NotFoundException):
            sns.unsubscribe(SubscriptionArn=arn)


def _delete_queues(sqs: SQSClient, urls: Iterable[str]) -> None:
    for url in urls:
        with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
            sqs.delete_queue(QueueUrl=url)


def _delete_bucket(s3: S3Client, bucket: str) -> None:
    """S3 refuses to delete a bucket with objects in it, so empty it first."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys: list[ObjectIdentifierTypeDef] = [
                {"Key": o["Key"]} for o in page.get("Contents", [])
            ]
            if keys:  # a page holds at most 1,000 keys, DeleteObjects' limit
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        pass


def _delete_parameters(ssm: SSMClient, names: Sequence[str]) -> None:
    # DeleteParameters takes at most 10 names and ignores missing ones.
    for start in range(0, len(names), 10):
        ssm.delete_parameters(Names=list(names[start : start + 10]))


def _delete_table(dynamodb: DynamoDBClient, name: str | None) -> None:
    if not name:
        return
    with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.delete_table(TableName=name)


# ---------------------------------------------------------------- describe


def describe(pipeline: ProvisionedPipeline) -> list[tuple[str, str, str]]:
    """(kind, name, ARN or URL) of every resource, in a stable order for the CLI."""
    rows = [("topic", name, arn) for name, arn in pipeline.topics.items()]
    rows += [("queue", name, url) for name, url in pipeline.queues.items()]
    rows += [
        ("subscription", f"{topic} -> {queue}", arn)
        for (topic, queue), arn in pipeline.subscriptions.items()
    ]
    rows += [("bucket", name, f"s3://{name}") for name in pipeline.buckets]
    rows += [("parameter", name, f"ssm:{name}") for name in pipeline.parameters]
    if pipeline.spec.lineage_table and pipeline.lineage_table_arn:
        rows.append(("table", pipeline.spec.lineage_table, pipeline.lineage_table_arn))
    return rows

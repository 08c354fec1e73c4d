"""Provisioning a pipeline spec on the emulator, read back through the AWS APIs.

The emulator enforces neither queue policies nor filter-policy syntax (DESIGN.md gaps),
so the documents provisioning writes are checked by reading them back, not by relying
on the emulator to refuse a wrong one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from harness.endpoints import AwsEndpoint
from harness.provision import (
    ProvisionedPipeline,
    ProvisionError,
    describe,
    provision,
    teardown,
)
from harness.spec import PipelineSpec, SpecError, spec_from_dict
from pylon.config import load_config

SPEC: dict[str, Any] = yaml.safe_load(
    """
name: docs
payloads: {s3_path: "s3://docs-payloads/offload/"}
buckets: [docs-lake, docs-payloads]
parameters:
  - {name: /docs/api-token, value: s3cr3t-token, secure: true}
  - {name: /docs/region, value: eu}
lineage: {table: lineage}
components:
  fetcher:
    type: source
    entrypoint: examples.docs.fetcher:fetchDocuments
    output_topic: documents
    config: {SOURCE_INTERVAL_SECONDS: 30}
  parser:
    type: pipeline
    entrypoint: examples.docs.parser:parseDocument
    subscribe: [{topic: documents, filter: {objectType: [urlResource]}}]
    output_topic: assets
    max_receive_count: 5
    visibility_timeout: 45
    config_in_ssm: true
    config: {API_TOKEN: s3cr3t-token}
    env: {LOG_LEVEL: DEBUG}
  writer:
    type: sink
    entrypoint: examples.docs.writer:writeToLake
    subscribe: [{topic: assets, filter: {objectType: [dataAsset]}}, documents]
    env: {IMAGE_NAME: lake-writer}
"""
)


@pytest.fixture
def spec() -> PipelineSpec:
    return spec_from_dict(SPEC, "pipeline.yaml")


@pytest.fixture
def pipeline(spec: PipelineSpec, boto_session: boto3.session.Session) -> ProvisionedPipeline:
    return provision(spec, boto_session)


def queue_attributes(url: str, *names: str) -> dict[str, str]:
    response = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=list(names))  # type: ignore[arg-type]
    return {str(name): value for name, value in response["Attributes"].items()}


def subscription_attributes(
    pipeline: ProvisionedPipeline, topic: str, queue: str
) -> dict[str, str]:
    arn = pipeline.subscriptions[(topic, queue)]
    return boto3.client("sns").get_subscription_attributes(SubscriptionArn=arn)["Attributes"]


def queue_subscriptions(topic_arn: str) -> list[str]:
    subscriptions = boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)
    return sorted(s["Endpoint"] for s in subscriptions["Subscriptions"])


def publish(topic_arn: str, body: str, object_type: str) -> None:
    boto3.client("sns").publish(
        TopicArn=topic_arn,
        Message=body,
        MessageAttributes={"objectType": {"DataType": "String", "StringValue": object_type}},
    )


def drain(queue_url: str, seconds: float) -> list[dict[str, Any]]:
    """Everything that arrives on the queue within `seconds` (deleted as it is read)."""
    sqs = boto3.client("sqs")
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        seen.extend(batch)  # type: ignore[arg-type]
    return seen


def wait_for_body(queue_url: str, body: str, timeout: float = 10) -> list[str]:
    """Bodies received until `body` arrives; fails at the deadline."""
    bodies: list[str] = []
    deadline = time.monotonic() + timeout
    while body not in bodies and time.monotonic() < deadline:
        bodies += [m["Body"] for m in drain(queue_url, 1)]
    assert body in bodies, f"{body!r} did not arrive on {queue_url} within {timeout}s: {bodies}"
    return bodies


# ---------------------------------------------------------------- what is created


def test_input_queue_redrives_to_its_dead_letter_queue_after_max_receive_count(
    pipeline: ProvisionedPipeline,
) -> None:
    for name, max_receive, visibility in [("parser", 5, 45), ("writer", 3, 30)]:
        component = pipeline.components[name]
        assert component.queue_url and component.dead_letter_queue_url
        attributes = queue_attributes(component.queue_url, "RedrivePolicy", "VisibilityTimeout")
        dlq_arn = queue_attributes(component.dead_letter_queue_url, "QueueArn")["QueueArn"]
        redrive = json.loads(attributes["RedrivePolicy"])

        assert int(redrive["maxReceiveCount"]) == max_receive
        assert redrive["deadLetterTargetArn"] == dlq_arn
        assert dlq_arn.endswith(f":{name}-in-dlq")
        assert attributes["VisibilityTimeout"] == str(visibility)
    assert (
        pipeline.queue_url("parser-in-dlq") == pipeline.components["parser"].dead_letter_queue_url
    )


def test_source_has_no_queue_and_sink_has_no_output_topic(pipeline: ProvisionedPipeline) -> None:
    fetcher, writer = pipeline.components["fetcher"], pipeline.components["writer"]

    assert (fetcher.queue_url, fetcher.queue_arn, fetcher.dead_letter_queue_url) == (
        None,
        None,
        None,
    )
    assert fetcher.output_topic_arn == pipeline.topic_arn("documents")
    assert writer.output_topic_arn is None
    assert sorted(pipeline.queues) == ["parser-in", "parser-in-dlq", "writer-in", "writer-in-dlq"]


def test_topic_arns_and_queue_urls_come_from_the_api(pipeline: ProvisionedPipeline) -> None:
    listed_topics = [t["TopicArn"] for t in boto3.client("sns").list_topics()["Topics"]]
    listed_queues = boto3.client("sqs").list_queues()["QueueUrls"]

    assert sorted(pipeline.topics.values()) == sorted(listed_topics)
    assert sorted(pipeline.queues.values()) == sorted(listed_queues)


def test_subscriptions_use_raw_delivery_and_the_spec_filter_policy(
    pipeline: ProvisionedPipeline,
) -> None:
    filtered = subscription_attributes(pipeline, "documents", "parser-in")
    unfiltered = subscription_attributes(pipeline, "documents", "writer-in")

    assert filtered["RawMessageDelivery"] == "true"
    assert json.loads(filtered["FilterPolicy"]) == {"objectType": ["urlResource"]}
    assert filtered["FilterPolicyScope"] == "MessageAttributes"
    assert filtered["Endpoint"] == pipeline.components["parser"].queue_arn
    assert unfiltered["RawMessageDelivery"] == "true"
    assert json.loads(unfiltered.get("FilterPolicy") or "{}") == {}


def test_queue_policy_lets_exactly_the_subscribed_topics_send(
    pipeline: ProvisionedPipeline,
) -> None:
    writer = pipeline.components["writer"]
    assert writer.queue_url
    policy = json.loads(queue_attributes(writer.queue_url, "Policy")["Policy"])

    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == writer.queue_arn
    source_arns = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(source_arns) == sorted(
        [pipeline.topic_arn("assets"), pipeline.topic_arn("documents")]
    )


def test_buckets_parameters_and_lineage_table_exist(pipeline: ProvisionedPipeline) -> None:
    s3, ssm = boto3.client("s3"), boto3.client("ssm")
    for bucket in ("docs-lake", "docs-payloads"):
        s3.head_bucket(Bucket=bucket)
    token = ssm.get_parameter(Name="/docs/api-token", WithDecryption=True)["Parameter"]
    region = ssm.get_parameter(Name="/docs/region")["Parameter"]
    table = boto3.client("dynamodb").describe_table(TableName="lineage")["Table"]

    assert (token["Type"], token["Value"]) == ("SecureString", "s3cr3t-token")
    assert (region["Type"], region["Value"]) == ("String", "eu")
    assert table["KeySchema"] == [{"AttributeName": "ingestionId", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "ingestionId", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TableArn"] == pipeline.lineage_table_arn


def test_pylon_config_is_stored_as_secure_string_when_config_in_ssm(
    pipeline: ProvisionedPipeline,
) -> None:
    parser = pipeline.components["parser"]
    stored = boto3.client("ssm").get_parameter(Name="/pylon/docs/parser", WithDecryption=True)

    assert parser.pylon_config_value == "/pylon/docs/parser"
    assert stored["Parameter"]["Type"] == "SecureString"
    assert json.loads(stored["Parameter"]["Value"]) == parser.pylon_config
    assert parser.pylon_config == {
        "API_TOKEN": "s3cr3t-token",
        "INPUT_QUEUE_NAME": "parser-in",
        "OUTPUT_TOPIC_ARN": pipeline.topic_arn("assets"),
        "OUTPUT_PAYLOAD_S3_PATH": "s3://docs-payloads/offload/",
    }


def test_pylon_config_is_inline_json_otherwise(pipeline: ProvisionedPipeline) -> None:
    fetcher = pipeline.components["fetcher"]

    assert json.loads(fetcher.pylon_config_value) == {
        "SOURCE_INTERVAL_SECONDS": 30,
        "OUTPUT_TOPIC_ARN": pipeline.topic_arn("documents"),
        "OUTPUT_PAYLOAD_S3_PATH": "s3://docs-payloads/offload/",
    }
    assert "INPUT_QUEUE_NAME" not in fetcher.pylon_config
    assert "OUTPUT_TOPIC_ARN" not in pipeline.components["writer"].pylon_config


@pytest.mark.parametrize("name", ["fetcher", "parser", "writer"])
def test_environment_holds_a_pylon_config_load_config_accepts(
    pipeline: ProvisionedPipeline, aws_env: AwsEndpoint, tmp_path: Path, name: str
) -> None:
    component = pipeline.components[name]
    env = component.environment(aws_env)

    config = load_config(
        component.spec.kind, "default-name", environ=env, dotenv_path=tmp_path / "absent.env"
    )

    assert env["AWS_ENDPOINT_URL"] == aws_env.endpoint_url
    assert env["PYLON_CONFIG"] == component.pylon_config_value
    assert dict(config) == component.pylon_config
    assert config.artifact_name == {"writer": "lake-writer"}.get(name, name)


def test_environment_keeps_spec_env_but_not_over_the_endpoint(
    spec: PipelineSpec, boto_session: boto3.session.Session, aws_env: AwsEndpoint
) -> None:
    parser = spec.components["parser"]
    hostile_env = {**parser.env, "AWS_ENDPOINT_URL": "http://10.1.2.3:4566", "PYLON_CONFIG": "{}"}
    components = {**spec.components, "parser": dataclasses.replace(parser, env=hostile_env)}
    pipeline = provision(dataclasses.replace(spec, components=components), boto_session)

    env = pipeline.components["parser"].environment(aws_env)

    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["IMAGE_NAME"] == "parser"
    assert env["AWS_ENDPOINT_URL"] == aws_env.endpoint_url
    assert env["PYLON_CONFIG"] == "/pylon/docs/parser"


def test_describe_lists_every_resource(pipeline: ProvisionedPipeline) -> None:
    rows = describe(pipeline)
    by_kind: dict[str, list[str]] = {}
    for kind, name, _ in rows:
        by_kind.setdefault(kind, []).append(name)

    assert sorted(by_kind["topic"]) == ["assets", "documents"]
    assert sorted(by_kind["queue"]) == sorted(pipeline.queues)
    assert sorted(by_kind["subscription"]) == [
        "assets -> writer-in",
        "documents -> parser-in",
        "documents -> writer-in",
    ]
    assert sorted(by_kind["bucket"]) == ["docs-lake", "docs-payloads"]
    assert sorted(by_kind["parameter"]) == ["/docs/api-token", "/docs/region", "/pylon/docs/parser"]
    assert by_kind["table"] == ["lineage"]
    assert ("topic", "assets", pipeline.topic_arn("assets")) in rows


def test_unknown_topic_or_queue_lists_the_known_ones(pipeline: ProvisionedPipeline) -> None:
    with pytest.raises(ProvisionError, match=r"no topic named 'asets'.*\['assets', 'documents'\]"):
        pipeline.topic_arn("asets")
    with pytest.raises(ProvisionError, match=r"no queue named 'parser'.*'parser-in'"):
        pipeline.queue_url("parser")


# ---------------------------------------------------------------- idempotence


def test_provisioning_twice_gives_the_same_state(
    spec: PipelineSpec, boto_session: boto3.session.Session, pipeline: ProvisionedPipeline
) -> None:
    again = provision(spec, boto_session)

    assert again == pipeline
    for topic_arn in pipeline.topics.values():
        endpoints = queue_subscriptions(topic_arn)
        assert len(endpoints) == len(set(endpoints))
    assert len(queue_subscriptions(pipeline.topic_arn("documents"))) == 2
    assert len(boto3.client("sqs").list_queues()["QueueUrls"]) == 4


def test_reprovisioning_an_edited_spec_updates_resources_in_place(
    spec: PipelineSpec, boto_session: boto3.session.Session, pipeline: ProvisionedPipeline
) -> None:
    edited = json.loads(json.dumps(SPEC))
    edited["components"]["parser"] |= {"max_receive_count": 9, "visibility_timeout": 120}
    edited["components"]["parser"]["subscribe"] = ["documents"]
    edited["components"]["writer"]["subscribe"] = [
        {"topic": "assets", "filter": {"objectType": ["ingestionStep"]}}
    ]

    updated = provision(spec_from_dict(edited), boto_session)

    parser, writer = updated.components["parser"], updated.components["writer"]
    assert parser.queue_url == pipeline.components["parser"].queue_url
    assert parser.queue_url and writer.queue_url
    attributes = queue_attributes(parser.queue_url, "RedrivePolicy", "VisibilityTimeout")
    assert int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"]) == 9
    assert attributes["VisibilityTimeout"] == "120"
    assert (
        updated.subscriptions[("documents", "parser-in")]
        == pipeline.subscriptions[("documents", "parser-in")]
    )
    unfiltered = subscription_attributes(updated, "documents", "parser-in")
    assert json.loads(unfiltered.get("FilterPolicy") or "{}") == {}
    refiltered = subscription_attributes(updated, "assets", "writer-in")
    assert json.loads(refiltered["FilterPolicy"]) == {"objectType": ["ingestionStep"]}
    # The writer no longer listens to documents: subscription and policy both gone.
    assert writer.queue_arn not in queue_subscriptions(updated.topic_arn("documents"))
    policy = json.loads(queue_attributes(writer.queue_url, "Policy")["Policy"])
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        updated.topic_arn("assets")
    ]


def test_repeated_topic_in_one_component_is_refused_before_provisioning() -> None:
    data = json.loads(json.dumps(SPEC))
    data["components"]["writer"]["subscribe"].append({"topic": "assets"})

    with pytest.raises(SpecError, match=r"components\.writer\.subscribe\[2\]\.topic: .*subscribed twice"):
        spec_from_dict(data, "pipeline.yaml")


# ---------------------------------------------------------------- delivery


def test_matching_message_reaches_the_filtered_queue(pipeline: ProvisionedPipeline) -> None:
    parser = pipeline.components["parser"]
    assert parser.queue_url
    publish(pipeline.topic_arn("documents"), "https://example.org/a", "urlResource")

    bodies = wait_for_body(parser.queue_url, "https://example.org/a")

    assert bodies == ["https://example.org/a"]  # raw delivery: the body, not an envelope


def test_message_of_another_object_type_is_filtered_out(pipeline: ProvisionedPipeline) -> None:
    parser, writer = pipeline.components["parser"], pipeline.components["writer"]
    assert parser.queue_url and writer.queue_url
    publish(pipeline.topic_arn("documents"), "not for the parser", "dataAsset")

    # The unfiltered writer subscription proves the message was delivered somewhere.
    wait_for_body(writer.queue_url, "not for the parser")
    assert drain(parser.queue_url, 2) == []


def test_raw_delivery_keeps_message_attributes(pipeline: ProvisionedPipeline) -> None:
    writer = pipeline.components["writer"]
    assert writer.queue_url
    publish(pipeline.topic_arn("assets"), "an asset", "dataAsset")

    deadline = time.monotonic() + 10
    received: list[dict[str, Any]] = []
    while not received and time.monotonic() < deadline:
        received = drain(writer.queue_url, 1)

    assert [m["Body"] for m in received] == ["an asset"]
    assert received[0]["MessageAttributes"]["objectType"]["StringValue"] == "dataAsset"


# ---------------------------------------------------------------- endpoint safety


@pytest.fixture
def offline_session(monkeypatch: pytest.MonkeyPatch) -> tuple[boto3.session.Session, list[str]]:
    """A session whose every request is recorded and stopped before it is sent."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sent: list[str] = []

    def refuse(request: Any, **_: Any) -> None:
        sent.append(request.url)
        raise AssertionError(f"a request was about to be sent to {request.url}")

    session = boto3.session.Session()
    session.events.register("before-send", refuse)
    return session, sent


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_ENDPOINT_URL": "http://10.1.2.3:4566"},
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "AWS_ENDPOINT_URL_SSM": "http://10.1.2.3:4566",
        },
        {},  # no endpoint at all: real AWS
    ],
    ids=["remote-endpoint", "one-remote-service", "real-aws"],
)
def test_remote_endpoint_is_refused_before_any_request(
    spec: PipelineSpec,
    offline_session: tuple[boto3.session.Session, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
) -> None:
    session, sent = offline_session
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ProvisionError, match=r"is not on this machine.*allow_remote=True"):
        provision(spec, session)
    with pytest.raises(ProvisionError, match="is not on this machine"):
        teardown(ProvisionedPipeline(spec, {}, {}, {}, ()), session)

    assert sent == []


def test_allow_remote_lets_provision_reach_the_endpoint(
    spec: PipelineSpec,
    offline_session: tuple[boto3.session.Session, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session, sent = offline_session
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://10.1.2.3:4566")

    # The recording hook stops the first request, so nothing leaves this machine.
    with pytest.raises(AssertionError, match="about to be sent"):
        provision(spec, session, allow_remote=True)

    assert sent and sent[0].startswith("http://10.1.2.3:4566")


# ---------------------------------------------------------------- teardown


def test_teardown_removes_everything_provisioned(
    pipeline: ProvisionedPipeline, boto_session: boto3.session.Session
) -> None:
    s3 = boto3.client("s3")
    for index in range(3):
        s3.put_object(Bucket="docs-payloads", Key=f"offload/{index}", Body=b"x")

    teardown(pipeline, boto_session)

    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []
    assert boto3.client("sns").list_topics()["Topics"] == []
    assert boto3.client("sns").list_subscriptions()["Subscriptions"] == []
    assert s3.list_buckets()["Buckets"] == []
    names = [p["Name"] for p in boto3.client("ssm").describe_parameters()["Parameters"]]
    assert names == []
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []


def test_teardown_twice_is_harmless(
    pipeline: ProvisionedPipeline, boto_session: boto3.session.Session
) -> None:
    teardown(pipeline, boto_session)
    teardown(pipeline, boto_session)


def test_provision_uses_the_environment_when_no_session_is_given(
    spec: PipelineSpec, aws_env: AwsEndpoint
) -> None:
    pipeline = provision(spec)

    assert pipeline.topic_arn("assets").startswith("arn:aws:sns:")
    teardown(pipeline)

"""Lambda mode: the partial batch response, through the in-process event source mapping
loop and through a real function deployed into MiniStack with its own mapping.

What is asserted about the emulator's mapping is what MiniStack 1.5.33 does (see
`_run_sqs_batch` in ministack/services/lambda_svc.py): records listed in
`batchItemFailures` stay in the queue, the others are deleted.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.endpoints import AwsEndpoint
from harness.pipeline.activity import queue_depth
from harness.provision import ProvisionedComponent, provision
from harness.run.esm_loop import (
    BatchResponseError,
    EventSourceMappingLoop,
    sqs_event_from_messages,
    succeeded_records,
)
from harness.run.lambda_deploy import (
    HANDLER,
    LambdaDeployError,
    LambdaRunner,
    build_package,
    function_environment,
)
from harness.spec import spec_from_dict
from harness.testing.recorder import TopicRecorder
from harness.testing.waiting import wait_until
from pylon.aws.sqs import SqsQueue
from pylon.codec import encode, inbound_from_lambda_record
from pylon.lambda_batch import is_sqs_event
from pylon.models.messages import BaseMessage, ObjectType
from pylon.wire import LambdaSqsRecord, SqsMessage
from tests.conftest import load_event
from tests.harness import lambda_components
from tests.harness.lambda_components import ExplodingHandler, upper

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:in"

# ---------------------------------------------------------------- fixtures and helpers

ProvisionUpper = Callable[..., ProvisionedComponent]


@pytest.fixture
def provision_upper(boto_session: boto3.session.Session) -> ProvisionUpper:
    """Provision the `upper` component (queue with DLQ redrive, output topic)."""

    def make(
        visibility_timeout: int = 1,
        max_receive_count: int = 2,
        entrypoint: str = "tests.harness.lambda_components:upper",
        **config: Any,
    ) -> ProvisionedComponent:
        spec = spec_from_dict(
            {
                "name": "lambda-mode",
                "components": {
                    "upper": {
                        "type": "pipeline",
                        "entrypoint": entrypoint,
                        "visibility_timeout": visibility_timeout,
                        "max_receive_count": max_receive_count,
                        "config": {"WAIT_TIME_SECONDS": 1, **config},
                    }
                },
            }
        )
        return provision(spec, boto_session).components["upper"]

    return make


@pytest.fixture
def record_output(boto_session: boto3.session.Session) -> Iterator[Callable[[str], TopicRecorder]]:
    recorders: list[TopicRecorder] = []

    def record(topic_arn: str) -> TopicRecorder:
        recorders.append(TopicRecorder(topic_arn, boto_session))
        return recorders[-1]

    yield record
    for recorder in recorders:
        recorder.close()


def send_batch(url: str, *bodies: str) -> None:
    """One SendMessageBatch, so that a mapping polling the queue sees one batch."""
    SqsQueue(url, boto3.client("sqs")).send([encode(BaseMessage(body=b)) for b in bodies])


def set_visibility_timeout(url: str, seconds: int) -> None:
    boto3.client("sqs").set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)}
    )


def wait_for_dead_letter(component: ProvisionedComponent, timeout_s: float) -> dict[str, Any]:
    """The first message to reach the component's dead-letter queue."""
    url = component.dead_letter_queue_url
    assert url is not None
    sqs = boto3.client("sqs")

    def receive() -> dict[str, Any] | None:
        messages = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])
        return dict(messages["Messages"][0]) if messages.get("Messages") else None

    return wait_until(receive, timeout_s, what=f"a message in {url}")


def raw_bodies(recorder: TopicRecorder) -> list[str]:
    return sorted(str(m.body) for m in recorder.of_type(ObjectType.RAW_CONTENT))


def is_raw_content(message: BaseMessage) -> bool:
    return message.objectType is ObjectType.RAW_CONTENT


def sqs_message(message_id: str, body: str, **attributes: Any) -> SqsMessage:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "Body": body,
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
        "MessageAttributes": attributes,
    }


def records(*message_ids: str) -> list[LambdaSqsRecord]:
    messages = [sqs_message(message_id, "x") for message_id in message_ids]
    return sqs_event_from_messages(messages, QUEUE_ARN, "us-east-1")["Records"]


# ---------------------------------------------------------------- the event shape (pure)


def test_event_record_has_the_lambda_sqs_shape() -> None:
    message = sqs_message(
        "m-1",
        "héllo",
        objectType={"DataType": "String", "StringValue": "rawContent"},
        blob={"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    )

    event = sqs_event_from_messages([message], QUEUE_ARN, "eu-west-1")

    assert event == {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "handle-m-1",
                "body": "héllo",
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
                "messageAttributes": {
                    "objectType": {"dataType": "String", "stringValue": "rawContent"},
                    "blob": {"dataType": "Binary", "binaryValue": "AAE="},
                },
                "md5OfBody": "be50e8478cf24ff3595bc7307fb91b50",  # MD5 of the UTF-8 body, as SQS
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "eu-west-1",
            }
        ]
    }


def test_event_has_the_keys_of_the_aws_sample_and_pylon_reads_it() -> None:
    sample_record = load_event("sqs_event.json")["Records"][0]
    message = sqs_message("m-1", "body", objectType={"DataType": "String", "StringValue": "x"})

    event = sqs_event_from_messages([message], QUEUE_ARN, "us-east-1")

    assert set(event["Records"][0]) == set(sample_record)
    assert is_sqs_event(event)
    inbound = inbound_from_lambda_record(event["Records"][0])
    assert (inbound.message_id, inbound.attributes) == ("m-1", {"objectType": "x"})


# ---------------------------------------------------------------- partial batch response (pure)


@pytest.mark.parametrize(
    "response",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
    ids=["none", "empty-object", "empty-list", "null-list"],
)
def test_response_without_failures_deletes_every_record(response: object) -> None:
    batch = records("a", "b")
    assert succeeded_records(batch, response) == batch


def test_failed_record_is_kept_alone() -> None:
    batch = records("a", "b", "c")
    done = succeeded_records(batch, {"batchItemFailures": [{"itemIdentifier": "b"}]})
    assert [r["messageId"] for r in done] == ["a", "c"]


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemId": "a"}],
        [{"itemIdentifier": "not-in-batch"}],
        ["a"],
        "a",
    ],
    ids=["empty-id", "null-id", "bad-key", "unknown-id", "not-an-object", "not-a-list"],
)
def test_untrustworthy_response_fails_the_whole_batch(failures: object) -> None:
    with pytest.raises(BatchResponseError):
        succeeded_records(records("a", "b"), {"batchItemFailures": failures})


def test_response_that_is_not_an_object_fails_the_whole_batch() -> None:
    with pytest.raises(BatchResponseError, match="not an object"):
        succeeded_records(records("a"), "ok")


# ---------------------------------------------------------------- the in-process loop


def test_loop_deletes_good_records_and_the_poison_one_is_redriven(
    provision_upper: ProvisionUpper, record_output: Callable[[str], TopicRecorder]
) -> None:
    component = provision_upper(visibility_timeout=1, max_receive_count=2)
    assert component.queue_url is not None and component.output_topic_arn is not None
    recorder = record_output(component.output_topic_arn)
    loop = EventSourceMappingLoop.for_component(component, upper)
    send_batch(component.queue_url, "a", lambda_components.POISON, "b")

    assert loop.run_once() == 3  # one receive returns the whole (small) batch

    recorder.wait_for(2, is_raw_content)
    assert raw_bodies(recorder) == ["A", "B"]
    assert queue_depth(component.queue_url).total == 1
    with loop:  # redelivered, failed again, then moved after maxReceiveCount receives
        dead = wait_for_dead_letter(component, timeout_s=15)
    assert dead["Body"] == lambda_components.POISON
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) >= 2
    assert queue_depth(component.queue_url).total == 0
    assert raw_bodies(recorder) == ["A", "B"]  # the good records were never redone


def test_loop_deletes_nothing_when_the_handler_raises(
    provision_upper: ProvisionUpper, caplog: pytest.LogCaptureFixture
) -> None:
    component = provision_upper(visibility_timeout=30)
    assert component.queue_url is not None
    loop = EventSourceMappingLoop(ExplodingHandler(), component.queue_url)
    send_batch(component.queue_url, "a", "b")

    with caplog.at_level(logging.ERROR, logger="harness.run.esm_loop"):
        handled = wait_until(loop.run_once, 10, what="a batch")

    assert handled == 2
    assert queue_depth(component.queue_url).total == 2
    assert "none deleted" in caplog.text
    assert "the whole invocation failed" in caplog.text


def test_loop_stops_promptly_when_asked(provision_upper: ProvisionUpper) -> None:
    component = provision_upper()
    assert component.queue_url is not None
    loop = EventSourceMappingLoop(ExplodingHandler(), component.queue_url, wait_seconds=1)

    loop.start()
    started = time.monotonic()
    loop.stop(timeout_seconds=5)

    assert time.monotonic() - started < 3  # the long poll in hand (1 s), then it returns
    assert not [t for t in threading.enumerate() if t.name == "pylon-esm-ExplodingHandler"]


# ---------------------------------------------------------------- a deployed Lambda function


def test_package_holds_handler_component_runtime_and_sdk() -> None:
    package = build_package("tests.harness.lambda_components:upper")

    names = set(zipfile.ZipFile(io.BytesIO(package)).namelist())
    module = HANDLER.split(".")[0]
    assert {f"{module}.py", "tests/harness/lambda_components.py", "pylon/components.py"} <= names
    assert {"dotenv/main.py", "boto3/session.py", "botocore/client.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert build_package("tests.harness.lambda_components:upper") == package  # same sha


def test_function_environment_leaves_region_credentials_and_endpoint_to_lambda(
    provision_upper: ProvisionUpper, aws_env: AwsEndpoint
) -> None:
    component = provision_upper()

    variables = function_environment(component, aws_env)

    assert variables["PYLON_CONFIG"] == component.pylon_config_value
    assert not {"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL"} & set(variables)


def test_a_source_cannot_be_deployed_behind_a_queue(
    provision_upper: ProvisionUpper, aws_env: AwsEndpoint
) -> None:
    component = provision_upper()
    source = dataclasses.replace(component, queue_url=None, queue_arn=None)

    with pytest.raises(LambdaDeployError, match="no input queue"), LambdaRunner([source], aws_env):
        pass


@pytest.mark.slow
def test_deployed_function_reports_the_poison_record_and_the_mapping_keeps_it(
    provision_upper: ProvisionUpper,
    record_output: Callable[[str], TopicRecorder],
    aws_env: AwsEndpoint,
) -> None:
    component = provision_upper(visibility_timeout=30, max_receive_count=2)
    assert component.queue_url is not None and component.output_topic_arn is not None
    recorder = record_output(component.output_topic_arn)
    lambda_client = boto3.client("lambda")

    with LambdaRunner([component], aws_env) as runner:
        deployed = runner.deployed[0]
        mapping = lambda_client.get_event_source_mapping(UUID=deployed.mapping_uuid)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == 10
        # The first invocation pays the cold start (seconds: MiniStack unpacks the SDK);
        # once it is warm, a short visibility timeout makes the redrive take seconds.
        send_batch(component.queue_url, "warm")
        recorder.wait_for(1, is_raw_content, timeout_s=30)
        set_visibility_timeout(component.queue_url, 1)

        send_batch(component.queue_url, "a", lambda_components.POISON, "b")

        recorder.wait_for(3, is_raw_content, timeout_s=15)
        dead = wait_for_dead_letter(component, timeout_s=15)
        assert dead["Body"] == lambda_components.POISON
        assert queue_depth(component.queue_url).total == 0
        # Exactly once each: the good records were deleted, not retried with the poison one.
        assert raw_bodies(recorder) == ["A", "B", "WARM"]

    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=deployed.function_name)


@pytest.mark.slow
def test_deploying_again_updates_in_place(
    provision_upper: ProvisionUpper, aws_env: AwsEndpoint
) -> None:
    component = provision_upper(visibility_timeout=5)
    lambda_client = boto3.client("lambda")

    with LambdaRunner([component], aws_env) as first, LambdaRunner([component], aws_env) as again:
        assert again.deployed[0].mapping_uuid == first.deployed[0].mapping_uuid
        mappings = lambda_client.list_event_source_mappings(FunctionName="upper")
        assert len(mappings["EventSourceMappings"]) == 1


@pytest.mark.slow
def test_ministack_mapping_deletes_the_batch_when_a_reported_id_is_unknown(
    provision_upper: ProvisionUpper, aws_env: AwsEndpoint
) -> None:
    """Emulator gap: on AWS an itemIdentifier that is not in the batch fails the whole
    batch (nothing deleted); MiniStack 1.5.33 ignores it and deletes every record
    (`_run_sqs_batch`, ministack/services/lambda_svc.py). The loop does what AWS does."""
    component = provision_upper(
        visibility_timeout=30, entrypoint="tests.harness.lambda_components:reports_unknown_record"
    )
    assert component.queue_url is not None
    url = component.queue_url

    with LambdaRunner([component], aws_env):
        send_batch(url, "a", "b")
        wait_until(lambda: queue_depth(url).total == 0, 30, what="MiniStack to delete the batch")

    send_batch(url, "c")
    loop = EventSourceMappingLoop(lambda_components.reports_unknown_record, url)
    assert wait_until(loop.run_once, 10, what="a batch") == 1
    assert queue_depth(url).total == 1


@pytest.mark.slow
def test_a_runtime_crash_mid_batch_loses_nothing_and_redone_records_keep_their_ingestion_id(
    provision_upper: ProvisionUpper,
    record_output: Callable[[str], TopicRecorder],
    aws_env: AwsEndpoint,
    tmp_path: Path,
) -> None:
    """The runtime dies (os._exit, as on an out-of-memory kill) mid-batch, after "a" and
    "b" were processed (their outputs wait for the batch's publish): the mapping fails the
    whole batch, every record comes back, the redone ones with the same ingestionId, and
    nothing is lost.

    Emulator gap: after a worker dies, MiniStack 1.5.33's warm worker pool fails the next
    invocation or two (its code directory is removed under the new worker: "No module
    named 'pylon_lambda_handler'"), where AWS starts a fresh execution environment; hence
    a generous maxReceiveCount here, so those emulator failures do not dead-letter the batch.
    """
    marker = tmp_path / "crashed"
    component = provision_upper(
        visibility_timeout=30,
        max_receive_count=10,
        entrypoint="tests.harness.lambda_components:crash_once",
        CRASH_MARKER=str(marker),
    )
    assert component.queue_url is not None and component.output_topic_arn is not None
    url, dead_letter_url = component.queue_url, component.dead_letter_queue_url or ""
    recorder = record_output(component.output_topic_arn)

    with LambdaRunner([component], aws_env):
        send_batch(url, "warm")
        recorder.wait_for(1, is_raw_content, timeout_s=30)
        set_visibility_timeout(url, 1)

        send_batch(url, "a", "b", "crash", "c")

        wait_until(marker.exists, 15, what="the crash")
        wait_until(lambda: queue_depth(url).total == 0, 60, what="every record to be done")

    while recorder.poll(wait_seconds=1):
        pass  # everything published so far, duplicates included
    bodies = raw_bodies(recorder)
    assert set(bodies) == {"A", "B", "C", "CRASH", "WARM"}
    # Outputs are published per batch: nothing of the crashed batch went out before the
    # crash, so the redone batch publishes each output once (at-least-once allows more).
    assert bodies.count("A") >= 1
    ids: dict[str, set[str | None]] = {}
    for message in recorder.of_type(ObjectType.RAW_CONTENT):
        ids.setdefault(str(message.body), set()).add(message.ingestionId)
    assert all(len(found) == 1 for found in ids.values())  # every redone record: the same id
    assert queue_depth(dead_letter_url).total == 0

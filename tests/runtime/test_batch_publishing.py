"""The outputs of a whole batch go out together; each input is deleted only when all ITS
outputs were published (at-least-once, per message)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import boto3
import pytest

import pylon
from harness.endpoints import AwsEndpoint
from pylon import BaseMessage, ObjectType
from pylon.aws import SnsTopic
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import PublishError
from pylon.execution import Execution
from pylon.hooks import Hook, Hooks
from pylon.lineage import LineageHook
from pylon.processing import MessagePath
from pylon.shutdown import StopSignal
from pylon.wire import InboundMessage, SqsMessage, WireMessage
from pylon.worker import QueueWorker
from tests.conftest import Wiring, load_event


@pylon.PipelineComponent
def echo(message, config):  # type: ignore[no-untyped-def]
    return pylon.result([message], {"task": "echo"})


class PublishBatchCounter:
    """Counts the PublishBatch requests (and their entries) a session's SNS clients send.

    It only observes, through botocore's event hooks: the requests still reach the emulator.
    """

    def __init__(self, aws_env: AwsEndpoint) -> None:
        self.entries_per_request: list[int] = []
        self.session = boto3.session.Session(region_name=aws_env.region)
        self.session.events.register("provide-client-params.sns.PublishBatch", self._count)

    def _count(self, params: dict[str, Any], **kwargs: Any) -> None:
        self.entries_per_request.append(len(params["PublishBatchRequestEntries"]))


def _receive_exactly(wiring: Wiring, count: int, timeout: float = 15) -> list[SqsMessage]:
    received: list[SqsMessage] = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        received.extend(wiring.input_queue.receive(10, wait_seconds=1))
    assert len(received) == count, f"expected {count} messages in hand, got {len(received)}"
    return received


def test_outputs_of_a_ten_message_batch_go_out_in_two_full_requests(
    wiring: Wiring, aws_env: AwsEndpoint
) -> None:
    counter = PublishBatchCounter(aws_env)
    runtime = echo.configure(wiring.config(ComponentKind.PIPELINE), counter.session)
    assert runtime.queue is not None
    for index in range(10):
        wiring.send(BaseMessage(body=f"message {index}"))
    raw = _receive_exactly(wiring, 10)

    outcome = QueueWorker(runtime.path, runtime.queue).process_batch(raw, StopSignal())

    assert len(outcome.succeeded) == 10 and outcome.failed == []
    # 10 outputs + 10 ingestion steps: two PublishBatch requests, not one per message.
    assert counter.entries_per_request == [10, 10]
    published = wiring.collect(20)
    assert sorted(m.body for m in published if m.objectType is ObjectType.RAW_CONTENT) == sorted(
        f"message {index}" for index in range(10)
    )
    assert wiring.visible_input_count() == 0


def test_lambda_batch_outputs_go_out_together_and_failures_are_still_reported_alone(
    wiring: Wiring, aws_env: AwsEndpoint
) -> None:
    @pylon.PipelineComponent
    def picky(message, config):  # type: ignore[no-untyped-def]
        if message.body == "fail me":
            raise ValueError("poison")
        return [message]

    counter = PublishBatchCounter(aws_env)
    picky.configure(wiring.config(ComponentKind.PIPELINE), counter.session)
    event = load_event("sqs_event.json")

    response = picky.lambda_handler(event, None)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]
    }
    assert counter.entries_per_request == [4]  # two records' outputs and steps, one request
    assert len(wiring.collect(4)) == 4


def test_when_publishing_fails_no_message_of_the_batch_is_deleted(
    wiring: Wiring, aws_env: AwsEndpoint
) -> None:
    missing_topic = f"arn:aws:sns:{aws_env.region}:000000000000:no-such-topic"
    runtime = echo.configure(wiring.config(ComponentKind.PIPELINE, OUTPUT_TOPIC_ARN=missing_topic))
    assert runtime.queue is not None
    for index in range(3):
        wiring.send(BaseMessage(body=f"message {index}"))
    raw = _receive_exactly(wiring, 3)

    outcome = QueueWorker(runtime.path, runtime.queue).process_batch(raw, StopSignal())

    assert outcome.succeeded == [] and sorted(outcome.failed) == sorted(m["MessageId"] for m in raw)
    assert wiring.visible_input_count() == 3


def test_sns_publish_each_reports_the_failed_entry_and_publishes_the_rest(wiring: Wiring) -> None:
    too_big = WireMessage("x" * (256 * 1024 + 1))
    messages = [WireMessage("first"), too_big, WireMessage("third")]

    failures = SnsTopic(wiring.topic_arn).publish_each(messages)

    assert list(failures) == [1]
    assert "too long" in failures[1]
    assert sorted(m.body for m in wiring.collect_raw(wiring.observer, 2)) == ["first", "third"]


# ---------------------------------------------------------------- attribution (pure logic)


class FailingEntries:
    """A Publisher (Pylon's own protocol) refusing the entries at the given indexes."""

    def __init__(self, failing: set[int]) -> None:
        self.failing = failing
        self.received: list[str] = []

    def publish_each(self, messages: Sequence[WireMessage]) -> dict[int, str]:
        self.received = [m.body for m in messages]
        return {index: "InternalError try again" for index in sorted(self.failing)}


class Outcomes(Hook):
    def __init__(self) -> None:
        self.errors: dict[str, BaseException | None] = {}

    def after_message(self, execution: Execution, error: BaseException | None) -> None:
        assert execution.inbound is not None
        self.errors[execution.inbound.message_id] = error


def _path(publisher: FailingEntries, outcomes: Outcomes) -> MessagePath:
    config = ComponentConfig(
        ComponentKind.PIPELINE,
        {"INPUT_QUEUE_NAME": "in", "OUTPUT_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:out"},
    )
    return MessagePath(
        echo.task,
        "echo",
        config,
        None,  # type: ignore[arg-type]  # inline bodies: S3 is never asked
        publisher,
        Hooks([outcomes, LineageHook()]),
    )


def _inbound(message_id: str) -> InboundMessage:
    return InboundMessage(
        message_id, f"receipt-{message_id}", message_id, {"objectType": "rawContent"}
    )


@pytest.mark.parametrize("failing_entry, failed_message", [(0, "a"), (1, "a"), (2, "b"), (5, "c")])
def test_a_failed_entry_fails_only_the_message_it_belongs_to(
    failing_entry: int, failed_message: str
) -> None:
    publisher, outcomes = FailingEntries({failing_entry}), Outcomes()
    path = _path(publisher, outcomes)
    executions = [path.prepare(_inbound(message_id)) for message_id in "abc"]

    errors = path.publish(executions)

    # Each message has two entries, in order: its output, then its ingestion step.
    assert publisher.received[0::2] == ["a", "b", "c"]
    ids = list("abc")
    failed = {ids[i]: error for i, error in enumerate(errors) if error is not None}
    assert list(failed) == [failed_message]
    assert isinstance(failed[failed_message], PublishError)
    assert f"echo message {failed_message}" in str(failed[failed_message])
    assert "failed for 1 of its 2 outputs" in str(failed[failed_message])
    assert outcomes.errors == {m: failed.get(m) for m in "abc"}


def test_run_raises_the_publish_error_of_its_single_message() -> None:
    path = _path(FailingEntries({1}), Outcomes())

    with pytest.raises(PublishError, match=r"output 1: InternalError try again"):
        path.run(_inbound("a"))

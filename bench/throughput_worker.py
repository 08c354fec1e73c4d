"""One consumer process of the throughput benchmark: Pylon's `runForever`, or the limit loop.

    python -m bench.throughput_worker pylon                      # PYLON_CONFIG in the env
    python -m bench.throughput_worker limit QUEUE_URL TOPIC_ARN

Both warm up first (clients created, one request made), print `ready`, wait for a line
on stdin, and then consume until SIGTERM, so that the parent times only the consuming.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3

import pylon
from bench.errors import BenchmarkError
from pylon.aws.clients import CLIENT_CONFIG
from pylon.codec import encode, sns_entry
from pylon.config import ComponentConfig
from pylon.lineage import step_message
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage
from pylon.shutdown import StopSignal

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

READY = "ready"
RELAY_METADATA = {"task": "bench relay"}
# Pylon names the component after the task when IMAGE_NAME is not set.
RELAY_ARTIFACT = ("relay", "0.0.0")
SNS_BATCH_ENTRIES = 10


@pylon.PipelineComponent
def relay(message: BaseMessage | None, config: ComponentConfig) -> pylon.PylonResult:
    """The benchmark's task: pass the message on, one output per input."""
    assert message is not None
    return pylon.result([message], RELAY_METADATA)


def _ready_then_wait() -> None:
    print(READY, flush=True)
    sys.stdin.readline()


def run_pylon() -> None:
    """The component exactly as it runs on ECS, after the same warm-up as the limit loop."""
    runtime = relay.configure()
    assert runtime.queue is not None
    _ = runtime.queue.url  # resolved now: one GetQueueUrl, the limit loop's warm-up request
    _ready_then_wait()
    relay.runForever()


def step_entry() -> dict[str, Any]:
    """A PublishBatch entry byte-for-byte the size of the ingestion step Pylon publishes."""
    step = IngestionStep.create(
        str(uuid.uuid4()), *RELAY_ARTIFACT, parent_ingestion_id=str(uuid.uuid4())
    )
    step.metadata = dict(RELAY_METADATA)
    return sns_entry(encode(step_message(step)), "step")


class LimitLoop:
    """Only the API calls Pylon's loop makes: receive 10 -> publish batch -> delete batch.

    Each input is published on unchanged (its body and attributes) together with an
    ingestion-step-sized entry, so the topic receives the same entries, of the same
    sizes, as from Pylon. The clients are plain boto3 ones, as in the loop a user would
    write, with Pylon's retry and timeout settings: not Pylon's `new_client`, whose
    clients encode SNS bodies once, and faster, and skip botocore's second check of the
    requests Pylon assembles (pylon/aws/clients.py).
    """

    def __init__(self, queue_url: str, topic_arn: str) -> None:
        self.queue_url = queue_url
        self.topic_arn = topic_arn
        self.sqs: SQSClient = boto3.client("sqs", config=CLIENT_CONFIG)
        self.sns: SNSClient = boto3.client("sns", config=CLIENT_CONFIG)
        self.step_entry = step_entry()

    def warm_up(self) -> None:
        self.sqs.get_queue_url(QueueName=self.queue_url.rsplit("/", 1)[-1])

    def run(self, stop: StopSignal) -> None:
        while not stop.requested:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
            messages = response.get("Messages", [])
            if messages:
                self._publish(messages)
                self._delete(messages)

    def _publish(self, messages: Sequence[MessageTypeDef]) -> None:
        entries: list[Any] = []
        for index, message in enumerate(messages):
            attributes = message.get("MessageAttributes", {})
            entries.append(
                {"Id": f"o{index}", "Message": message["Body"], "MessageAttributes": attributes}
            )
            entries.append({**self.step_entry, "Id": f"s{index}"})
        for start in range(0, len(entries), SNS_BATCH_ENTRIES):
            response = self.sns.publish_batch(
                TopicArn=self.topic_arn,
                PublishBatchRequestEntries=entries[start : start + SNS_BATCH_ENTRIES],
            )
            if response.get("Failed"):
                raise BenchmarkError(f"limit loop: publish_batch failed: {response['Failed']}")

    def _delete(self, messages: Sequence[MessageTypeDef]) -> None:
        entries: list[Any] = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
        ]
        response = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        if response.get("Failed"):
            raise BenchmarkError(f"limit loop: delete_message_batch failed: {response['Failed']}")


def run_limit(queue_url: str, topic_arn: str) -> None:
    loop = LimitLoop(queue_url, topic_arn)
    loop.warm_up()
    _ready_then_wait()
    with StopSignal() as stop:
        loop.run(stop)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(prog="python -m bench.throughput_worker")
    commands = arguments.add_subparsers(dest="implementation", required=True)
    commands.add_parser("pylon", help="PipelineComponent.runForever (PYLON_CONFIG from the env)")
    limit = commands.add_parser("limit", help="the hand-written boto3 loop")
    limit.add_argument("queue_url")
    limit.add_argument("topic_arn")
    options = arguments.parse_args(argv)
    if options.implementation == "pylon":
        run_pylon()
    else:
        run_limit(options.queue_url, options.topic_arn)
    return 0


if __name__ == "__main__":
    sys.exit(main())

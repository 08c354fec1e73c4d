"""botocore's own CPU per relayed message: a plain boto3 client's against Pylon's.

The throughput benchmark's two loops make the same calls, but not with the same
clients: the limit loop uses plain boto3 ones, Pylon's runtime its own, which encode an
SNS body once instead of twice, and faster, and skip botocore's second check of the
requests Pylon assembles (pylon/aws/clients.py). This measures that difference alone,
so that the throughput figures can be read: each call of the relay loop is made through
both kinds of client with the HTTP exchange replaced by a canned response (botocore's
`before-send` event), so only the client's work is timed: check, serialize, encode,
sign, parse. Nothing is sent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from bench.throughput_worker import step_entry
from pylon.aws.clients import CLIENT_CONFIG, new_client
from pylon.codec import encode, sns_entry
from pylon.models.messages import BaseMessage

# Per relayed message the loop receives a tenth of a batch, publishes two entries (the
# output and its ingestion step) of ten-entry batches, and deletes a tenth of a batch.
_CALLS_PER_MESSAGE = {"receive": 0.1, "publish": 0.2, "delete": 0.1}
_QUEUE_URL = "http://127.0.0.1:9/000000000000/bench-in"
_TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:bench-out"
_PUBLISHED = (
    b"<PublishBatchResponse><PublishBatchResult><Successful/><Failed/></PublishBatchResult>"
    b"</PublishBatchResponse>"
)
_CANNED = {"sqs": b"{}", "sns": _PUBLISHED}


@dataclass(frozen=True)
class ClientCost:
    """µs of botocore's CPU per relayed message, by call and in all."""

    receive: float
    publish: float
    delete: float

    @property
    def total(self) -> float:
        return self.receive + self.publish + self.delete


class _CannedBody:
    """The `raw` of an AWSResponse: botocore reads it through `stream()`."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Any:
        yield self.content


def _answer_locally(client: Any, service: str) -> Any:
    def respond(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, HTTPHeaders(), _CannedBody(_CANNED[service]))

    client.meta.events.register_first(f"before-send.{service}", respond)
    return client


def _loop_calls(sqs: Any, sns: Any) -> dict[str, Callable[[], object]]:
    """The relay loop's three calls, with the bench's own entries."""
    output = sns_entry(encode(BaseMessage(body="x" * 1024, ingestionId=str(uuid.uuid4()))), "o")
    entries = [
        {**(output if index % 2 == 0 else step_entry()), "Id": str(index)} for index in range(10)
    ]
    handles = [{"Id": str(index), "ReceiptHandle": "r" * 400} for index in range(10)]
    return {
        "receive": lambda: sqs.receive_message(
            QueueUrl=_QUEUE_URL,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        ),
        "publish": lambda: sns.publish_batch(TopicArn=_TOPIC_ARN, PublishBatchRequestEntries=entries),
        "delete": lambda: sqs.delete_message_batch(QueueUrl=_QUEUE_URL, Entries=handles),
    }


def _per_message_us(calls: dict[str, Callable[[], object]], rounds: int) -> ClientCost:
    costs = {}
    for name, call in calls.items():
        call()  # the first call of an operation loads its model: not the loop's cost
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(rounds):
                call()
            best = min(best, (time.process_time() - started) / rounds)
        costs[name] = best * 1e6 * _CALLS_PER_MESSAGE[name]
    return ClientCost(**costs)


def measure(rounds: int = 100) -> tuple[ClientCost, ClientCost]:
    """(plain boto3, Pylon's runtime clients): botocore's CPU per relayed message.

    Needs AWS settings in the environment (any endpoint: nothing reaches it).
    """
    plain = _loop_calls(
        _answer_locally(boto3.client("sqs", config=CLIENT_CONFIG), "sqs"),
        _answer_locally(boto3.client("sns", config=CLIENT_CONFIG), "sns"),
    )
    pylon = _loop_calls(
        _answer_locally(new_client("sqs", assembled=True), "sqs"),
        _answer_locally(new_client("sns", assembled=True), "sns"),
    )
    return _per_message_us(plain, rounds), _per_message_us(pylon, rounds)

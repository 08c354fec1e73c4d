"""In-memory stand-ins for the SQS, SNS and S3 clients, to time Pylon without any I/O.

Only for benchmarks of framework overhead: they answer the calls Pylon's message path
makes (receive, delete, publish) with well-formed responses and do nothing else, so
every line of Pylon runs and no time goes to HTTP, botocore or an emulator. Tests never
use them: tests talk to a real emulator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import boto3

from bench.errors import BenchmarkError
from pylon.wire import SqsMessage


class InMemorySqs:
    """`receive_message` hands out the preloaded messages; deletes are counted."""

    def __init__(self, messages: Iterable[SqsMessage] = ()) -> None:
        self.pending: deque[SqsMessage] = deque(messages)
        self.deleted = 0

    def load(self, messages: Iterable[SqsMessage]) -> None:
        self.pending.extend(messages)

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        count = min(int(kwargs.get("MaxNumberOfMessages", 1)), len(self.pending))
        return {"Messages": [self.pending.popleft() for _ in range(count)]}

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        entries = kwargs["Entries"]
        self.deleted += len(entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in entries], "Failed": []}

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        return {"Successful": [{"Id": entry["Id"]} for entry in kwargs["Entries"]], "Failed": []}

    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        """What the lease keeper asks once: the queue's lease (long: no renewal is due)."""
        return {"Attributes": {"VisibilityTimeout": "300"}}


class InMemorySns:
    """`publish_batch` accepts every entry; published entries are counted, and kept when
    asked (to compare what two loops published)."""

    def __init__(self, keep: bool = False) -> None:
        self.published = 0
        self.kept: list[dict[str, Any]] | None = [] if keep else None

    def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
        entries = kwargs["PublishBatchRequestEntries"]
        self.published += len(entries)
        if self.kept is not None:
            self.kept.extend(entries)
        return {
            "Successful": [{"Id": entry["Id"], "MessageId": entry["Id"]} for entry in entries],
            "Failed": [],
        }


class NoS3:
    """Benchmarks of the message path use inline bodies: an S3 call would be a mistake."""

    def __getattr__(self, name: str) -> Any:
        raise BenchmarkError(f"unexpected S3 call {name} in an in-memory benchmark")


class InMemorySession(boto3.session.Session):
    """A boto3 session whose clients are the in-memory ones (`configure(session=...)`)."""

    def __init__(self, sqs: InMemorySqs | None = None, sns: InMemorySns | None = None) -> None:
        super().__init__(region_name="us-east-1")
        self.sqs = sqs or InMemorySqs()
        self.sns = sns or InMemorySns()
        self._clients: dict[str, Any] = {"sqs": self.sqs, "sns": self.sns, "s3": NoS3()}

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if service_name not in self._clients:
            raise BenchmarkError(f"no in-memory {service_name} client")
        return self._clients[service_name]

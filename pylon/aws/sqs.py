"""SQS queue wrapper: receive, delete, send and release in checked batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from pylon.aws.batching import batches
from pylon.aws.clients import new_client
from pylon.codec import sqs_entry
from pylon.errors import PublishError, PylonError
from pylon.wire import SqsMessage, WireMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsQueue:
    """One SQS queue, addressed by name or URL (the URL is looked up once, lazily)."""

    def __init__(self, name_or_url: str, client: SQSClient | None = None) -> None:
        self.name_or_url = name_or_url
        self._client: SQSClient = client or new_client("sqs")
        self._url = name_or_url if "://" in name_or_url else None

    @property
    def url(self) -> str:
        if self._url is None:
            try:
                self._url = self._client.get_queue_url(QueueName=self.name_or_url)["QueueUrl"]
            except self._client.exceptions.QueueDoesNotExist:
                raise PylonError(
                    f"SQS queue {self.name_or_url!r} does not exist at "
                    f"{self._client.meta.endpoint_url}; check INPUT_QUEUE_NAME"
                ) from None
        return self._url

    def receive(
        self, max_messages: int = 10, wait_seconds: int = 20, visibility_timeout: int | None = None
    ) -> list[SqsMessage]:
        """Long-poll for up to `max_messages` (SQS's maximum is 10)."""
        kwargs: dict[str, Any] = {
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max_messages,
            "WaitTimeSeconds": wait_seconds,
            "MessageAttributeNames": ["All"],
            "MessageSystemAttributeNames": [
                "ApproximateReceiveCount",
                "SentTimestamp",
                "MessageGroupId",  # FIFO queues only
            ],
        }
        if visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = visibility_timeout
        response = self._client.receive_message(**kwargs)
        return cast(list[SqsMessage], response.get("Messages", []))

    def delete(self, receipt_handles: Sequence[str]) -> None:
        """Delete messages; duplicates are dropped first, as SQS fails a batch on repeated ids."""
        unique = list(dict.fromkeys(receipt_handles))
        for start in range(0, len(unique), 10):
            chunk = unique[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
            response = self._client.delete_message_batch(QueueUrl=self.url, Entries=entries)  # type: ignore[arg-type]
            failed = response.get("Failed", [])
            if failed:
                raise PylonError(f"deleting from {self.url} failed: {failed}")

    def release(self, receipt_handles: Sequence[str]) -> list[str]:
        """Make messages visible again now (used when stopping with messages in hand).

        Returns the handles SQS refused (see `change_visibility`).
        """
        return self.change_visibility(receipt_handles, 0)

    def change_visibility(self, receipt_handles: Sequence[str], seconds: int) -> list[str]:
        """Set the visibility timeout of received messages to `seconds` from now.

        Returns the handles SQS refused, typically because the message's lease already
        ran out and another receive took it (its handle is then stale); raises only when
        the requests themselves fail.
        """
        unique = list(dict.fromkeys(receipt_handles))
        refused: list[str] = []
        for start in range(0, len(unique), 10):
            chunk = unique[start : start + 10]
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": seconds}
                for i, h in enumerate(chunk)
            ]
            response = self._client.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=entries,  # type: ignore[arg-type]
            )
            refused.extend(chunk[int(failure["Id"])] for failure in response.get("Failed", []))
        return refused

    def extend_visibility(self, receipt_handle: str, seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def visibility_timeout(self) -> int:
        """The queue's own VisibilityTimeout attribute, in seconds."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["VisibilityTimeout"]
        )["Attributes"]
        return int(attributes["VisibilityTimeout"])

    def send(self, messages: Sequence[WireMessage]) -> list[str]:
        """Send messages; return their message ids; raise PublishError on any failed entry."""
        ids: list[str] = [""] * len(messages)
        for batch in batches(messages):
            entries = [sqs_entry(message, str(index)) for index, message in batch]
            response = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)  # type: ignore[arg-type]
            if response.get("Failed"):
                raise PublishError(f"sending to {self.url} failed: {response['Failed']}")
            for ok in response.get("Successful", []):
                ids[int(ok["Id"])] = ok["MessageId"]
        return ids

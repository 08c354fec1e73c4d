"""SNS topic wrapper: publish Pylon wire messages in checked batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from pylon.aws.batching import batches
from pylon.aws.clients import new_client
from pylon.codec import sns_entry
from pylon.errors import PublishError
from pylon.wire import WireMessage

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

logger = logging.getLogger(__name__)

# Failed entries (throttling, internal errors) are retried this many times before the
# whole publish is declared failed and the input message left for redelivery.
_ENTRY_RETRIES = 3


class SnsTopic:
    """One SNS topic, addressed by ARN."""

    def __init__(self, arn: str, client: SNSClient | None = None) -> None:
        self.arn = arn
        self._client: SNSClient = client or new_client("sns")

    def publish(self, messages: Sequence[WireMessage]) -> None:
        """Publish all messages; raise PublishError unless every entry succeeded."""
        failures = self.publish_each(messages)
        if failures:
            details = "; ".join(f"entry {index}: {reason}" for index, reason in failures.items())
            raise PublishError(
                f"publishing to {self.arn} failed for {len(failures)} entries: {details}"
            )

    def publish_each(self, messages: Sequence[WireMessage]) -> dict[int, str]:
        """Publish all messages; return why each entry that still failed after retries failed.

        A failed request does not stop the ones after it, so a caller publishing the
        outputs of several inputs together learns exactly which inputs had every output
        published (and may be deleted). Keys are indexes into `messages`, in order.
        """
        failures: dict[int, str] = {}
        for batch in batches(messages):
            pending = {str(index): sns_entry(message, str(index)) for index, message in batch}
            failures.update(self._publish_with_retries(pending))
        return dict(sorted(failures.items()))

    def _publish_with_retries(self, pending: dict[str, dict[str, Any]]) -> dict[int, str]:
        failures: list[Any] = []
        for attempt in range(_ENTRY_RETRIES + 1):
            try:
                response = self._client.publish_batch(
                    TopicArn=self.arn,
                    PublishBatchRequestEntries=list(pending.values()),  # type: ignore[arg-type]
                )
            except ClientError as exc:
                error = exc.response.get("Error", {})
                reason = f"{error.get('Code')} {error.get('Message', '')}".strip()
                return {int(entry_id): reason for entry_id in pending}
            failures = list(response.get("Failed", []))
            retryable = {f["Id"] for f in failures if not f.get("SenderFault")}
            if not failures or len(retryable) < len(failures):
                break
            pending = {entry_id: pending[entry_id] for entry_id in retryable}
            time.sleep(0.1 * 2**attempt)
        return {int(f["Id"]): f"{f.get('Code')} {f.get('Message', '')}".strip() for f in failures}

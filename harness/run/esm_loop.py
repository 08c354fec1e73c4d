"""Lambda's SQS event source mapping, in-process: for emulators that cannot run Lambda.

    with EventSourceMappingLoop.for_component(provisioned, upper):
        ...  # messages on the input queue reach upper.lambda_handler as Lambda events

It does what the AWS mapping does with `ReportBatchItemFailures` on: receive up to
`batch_size` messages, hand them to `lambda_handler` as one SQS event (the exact Lambda
record shape), then delete the records the partial batch response does not list.

Partial-failure semantics, as AWS documents them:
- the response lists failed records as `{"batchItemFailures": [{"itemIdentifier": id}]}`;
  every other record succeeded and is deleted;
- no response, `{}`, or an empty or null `batchItemFailures` is a complete success;
- an exception from the handler, or a response Lambda cannot trust (an item without
  `itemIdentifier`, an empty or unknown id), fails the whole batch: nothing is deleted
  and every record returns after the queue's visibility timeout, to be redriven to the
  dead-letter queue after `maxReceiveCount`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3

from harness.errors import HarnessError
from harness.lifecycle import Running
from harness.provision import ProvisionedComponent
from harness.run.inprocess import component_config
from pylon.aws.clients import new_client
from pylon.aws.sqs import SqsQueue
from pylon.components import Component
from pylon.wire import (
    LambdaAttributeValue,
    LambdaSqsEvent,
    LambdaSqsRecord,
    SqsAttributeValue,
    SqsMessage,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

# SQS returns at most 10 messages per receive; that is the batch this loop can build.
MAX_BATCH_SIZE = 10
# After an error outside the handler (the queue gone, the emulator restarting), wait
# before polling again rather than spinning; AWS's mappings back off the same way.
_ERROR_BACKOFF_SECONDS = 1.0
_DEFAULT_TIMEOUT_SECONDS = 30


class LambdaTarget(Protocol):
    """Anything with Lambda's handler signature, such as a Pylon component."""

    def lambda_handler(self, event: Any, context: Any) -> Any: ...


class BatchResponseError(HarnessError):
    """The handler's response is not a partial batch response Lambda would accept."""


@dataclass(frozen=True)
class LambdaContext:
    """The part of Lambda's context object that handlers commonly use."""

    function_name: str
    timeout_seconds: int = _DEFAULT_TIMEOUT_SECONDS
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


# ---------------------------------------------------------------- pure event logic


def sqs_event_from_messages(
    messages: Sequence[SqsMessage], queue_arn: str, region: str
) -> LambdaSqsEvent:
    """The event Lambda's SQS mapping would deliver for these received messages."""
    return {"Records": [_record(message, queue_arn, region) for message in messages]}


def _record(message: SqsMessage, queue_arn: str, region: str) -> LambdaSqsRecord:
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        # SQS's MD5OfBody is this digest of the UTF-8 body; not a security use.
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_attribute(value: SqsAttributeValue) -> LambdaAttributeValue:
    """boto3's `StringValue`/`BinaryValue` become Lambda's camelCase; binary as base64."""
    attribute: LambdaAttributeValue = {"dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def succeeded_records(
    records: Sequence[LambdaSqsRecord], response: object
) -> list[LambdaSqsRecord]:
    """The records a handler's response lets Lambda delete.

    Raises BatchResponseError when Lambda would fail the whole batch. A response that is
    not a JSON object at all is treated the same way: AWS documents no case for it, and
    retrying a batch loses nothing while deleting it might.
    """
    if response is None:
        return list(records)
    if not isinstance(response, Mapping):
        raise BatchResponseError(f"the response is a {type(response).__name__}, not an object")
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        raise BatchResponseError(f"batchItemFailures is a {type(failures).__name__}, not a list")
    known = {record["messageId"] for record in records}
    failed = {_failed_id(failure, known) for failure in failures}
    return [record for record in records if record["messageId"] not in failed]


def _failed_id(failure: object, known: set[str]) -> str:
    identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
    if not isinstance(identifier, str) or not identifier:
        raise BatchResponseError(f"batch item failure {failure!r} has no itemIdentifier")
    if identifier not in known:
        raise BatchResponseError(f"itemIdentifier {identifier!r} is not a record of this batch")
    return identifier


# ---------------------------------------------------------------- the loop


class EventSourceMappingLoop(Running):
    """Polls one queue and invokes one handler with each batch, as Lambda's mapping does."""

    def __init__(
        self,
        component: LambdaTarget,
        queue_url: str,
        batch_size: int = MAX_BATCH_SIZE,
        wait_seconds: int = 1,
        *,
        queue_arn: str | None = None,
        timeout_seconds: int = _DEFAULT_TIMEOUT_SECONDS,
        session: boto3.session.Session | None = None,
    ) -> None:
        """`timeout_seconds` is what the context reports as the function's timeout."""
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise HarnessError(
                f"batch_size must be 1 to {MAX_BATCH_SIZE} (one SQS receive), got {batch_size}"
            )
        self.component = component
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.timeout_seconds = timeout_seconds
        self.function_name = str(getattr(component, "__name__", type(component).__name__))
        self._client: SQSClient = new_client("sqs", session)
        self._queue = SqsQueue(queue_url, self._client)
        self._queue_arn = queue_arn
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_component(
        cls,
        provisioned: ProvisionedComponent,
        component: Component,
        *,
        session: boto3.session.Session | None = None,
    ) -> EventSourceMappingLoop:
        """A loop over the provisioned input queue, with the component configured for it."""
        if provisioned.queue_url is None:
            raise HarnessError(
                f"component {provisioned.spec.name!r} is a {provisioned.spec.kind.value} "
                "with no input queue; an event source mapping needs one"
            )
        component.configure(component_config(provisioned))
        return cls(
            cast(LambdaTarget, component),
            provisioned.queue_url,
            batch_size=provisioned.spec.batch_size,  # the spec's, as the AWS mapping gets
            queue_arn=provisioned.queue_arn,
            timeout_seconds=max(1, provisioned.spec.visibility_timeout),
            session=session,
        )

    @property
    def queue_arn(self) -> str:
        if self._queue_arn is None:
            attributes = self._client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
            )
            self._queue_arn = attributes["Attributes"]["QueueArn"]
        return self._queue_arn

    def run_once(self) -> int:
        """Receive one batch, invoke the handler, delete what succeeded.

        Returns how many records the handler was given (0 when the queue was empty).
        """
        messages = self._receive()
        if not messages:
            return 0
        event = sqs_event_from_messages(messages, self.queue_arn, self._client.meta.region_name)
        records = event["Records"]
        try:
            response = self.component.lambda_handler(event, self._context())
            done = succeeded_records(records, response)
        except Exception as error:
            logger.error(
                "%s: invocation with %d records failed (%s: %s); none deleted, all return "
                "after the visibility timeout",
                self.function_name,
                len(records),
                type(error).__name__,
                error,
                exc_info=not isinstance(error, BatchResponseError),
            )
            return len(records)
        self._queue.delete([record["receiptHandle"] for record in done])
        if len(done) < len(records):
            logger.info(
                "%s: %d of %d records reported as failed; left in the queue for redelivery",
                self.function_name,
                len(records) - len(done),
                len(records),
            )
        return len(records)

    def run_forever(self, stop_event: threading.Event) -> None:
        """Poll until `stop_event` is set; errors outside the handler are logged and retried."""
        while not stop_event.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception(
                    "%s: polling %s failed; retrying in %.0f s",
                    self.function_name,
                    self.queue_url,
                    _ERROR_BACKOFF_SECONDS,
                )
                stop_event.wait(_ERROR_BACKOFF_SECONDS)

    def start(self) -> None:
        """Run `run_forever` in a daemon thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever,
            args=(self._stop,),
            name=f"pylon-esm-{self.function_name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout_seconds: float = 30) -> None:
        """Stop polling; the batch in hand finishes first. Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.join(timeout_seconds)
        if thread.is_alive():
            logger.warning(
                "%s: the mapping loop did not stop within %.0f s; its handler is still running",
                self.function_name,
                timeout_seconds,
            )

    def _receive(self) -> list[SqsMessage]:
        response = self._client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return cast(list[SqsMessage], response.get("Messages", []))

    def _context(self) -> LambdaContext:
        return LambdaContext(self.function_name, self.timeout_seconds)

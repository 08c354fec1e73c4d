"""Queue consumption for ECS/containers: receive a batch, run each message, delete the done.

Each message of a batch is prepared (decoded, task run, outputs encoded) on its own; then
the outputs of all of them are published together and the batch's done messages deleted
at once. A message is done only when every one of its outputs was published; a failed
message is left alone, so SQS redelivers it after the visibility timeout and moves it to
the dead-letter queue after `maxReceiveCount`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pylon.aws.sqs import SqsQueue
from pylon.codec import inbound_from_sqs
from pylon.errors import PylonError
from pylon.execution import Execution
from pylon.processing import MessagePath
from pylon.shutdown import StopSignal
from pylon.wire import InboundMessage, SqsMessage

logger = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    """Message ids by fate, for callers and tests."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


def log_failure(inbound: InboundMessage | None, message_id: str, error: BaseException) -> None:
    """One line saying which message failed, why, and what happens to it now."""
    receive = f" (receive {inbound.receive_count})" if inbound else ""
    logger.error(
        "message %s failed%s: %s: %s; it stays in the queue for redelivery and moves to the "
        "dead-letter queue after maxReceiveCount",
        message_id,
        receive,
        type(error).__name__,
        error,
        # Pylon's own errors already say what and where; a trace adds nothing for them.
        exc_info=not isinstance(error, PylonError),
        extra={"message_id": message_id},
    )


class QueueWorker:
    def __init__(self, path: MessagePath, queue: SqsQueue) -> None:
        self._path = path
        self._queue = queue

    def run_once(self, stop: StopSignal | None = None) -> BatchOutcome:
        """Receive one batch (long polling) and process it."""
        config = self._path.config
        raw_messages = self._queue.receive(config.max_messages, config.wait_time_seconds)
        return self.process_batch(raw_messages, stop or StopSignal())

    def run_forever(self, stop: StopSignal) -> None:
        while not stop.requested:
            self.run_once(stop)

    def process_batch(self, raw_messages: list[SqsMessage], stop: StopSignal) -> BatchOutcome:
        outcome = BatchOutcome()
        prepared: list[Execution] = []
        for index, raw in enumerate(raw_messages):
            if stop.requested:
                self._release(raw_messages[index:], outcome)
                break
            execution = self._prepare(raw, outcome)
            if execution is not None:
                prepared.append(execution)
        self._queue.delete(self._publish(prepared, outcome))
        return outcome

    def _prepare(self, raw: SqsMessage, outcome: BatchOutcome) -> Execution | None:
        inbound = None
        try:
            inbound = inbound_from_sqs(raw)
            return self._path.prepare(inbound)
        except Exception as error:
            log_failure(inbound, raw["MessageId"], error)
            outcome.failed.append(raw["MessageId"])
            return None

    def _publish(self, prepared: list[Execution], outcome: BatchOutcome) -> list[str]:
        """Publish the outputs of all prepared messages; the receipt handles of the done."""
        done: list[str] = []
        for execution, error in zip(prepared, self._path.publish(prepared), strict=True):
            inbound = execution.inbound
            assert inbound is not None
            if error is not None:
                log_failure(inbound, inbound.message_id, error)
                outcome.failed.append(inbound.message_id)
                continue
            outcome.succeeded.append(inbound.message_id)
            done.append(inbound.receipt_handle)
        return done

    def _release(self, remaining: list[SqsMessage], outcome: BatchOutcome) -> None:
        """Stopping: hand unstarted messages back at once instead of after the timeout."""
        self._queue.release([raw["ReceiptHandle"] for raw in remaining])
        outcome.released.extend(raw["MessageId"] for raw in remaining)
        logger.info("stopping: released %d unstarted message(s) back to the queue", len(remaining))

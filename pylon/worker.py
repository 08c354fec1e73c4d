"""Queue consumption for ECS/containers: receive a batch, run each message, delete the done.

Each message of a batch is prepared (decoded, task run, outputs encoded) on its own; then
the outputs of all of them are published together and the batch's done messages deleted
at once (under `run_forever`, in the background while the next receive goes out). A message is done only when every one of its outputs was published; a failed
message is left alone, so SQS redelivers it after the visibility timeout and moves it to
the dead-letter queue after `maxReceiveCount`. While the batch is in hand its messages
stay leased (`pylon.leases`): renewed until deleted, and a task past
TASK_TIMEOUT_SECONDS ends the process after its batch is settled.

An error outside any one message (the queue unreachable while an endpoint restarts, a
delete refused) never ends `run_forever`: it is logged and the loop carries on after a
pause; nothing is lost, because undeleted messages come back after their lease.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from pylon.aws.sqs import SqsQueue
from pylon.codec import inbound_from_sqs, message_group_of
from pylon.deletes import BackgroundDeletes, delete_done
from pylon.errors import PylonError
from pylon.execution import Execution
from pylon.fifo import is_fifo
from pylon.group_order import GroupGate, HeldBackError, ReceiveSize, publish_in_group_order
from pylon.leases import HeldBatch, LeaseKeeper
from pylon.logs import Liveness
from pylon.processing import MessagePath
from pylon.shutdown import StopSignal
from pylon.wire import InboundMessage, SqsMessage

logger = logging.getLogger(__name__)

# Deletes the done messages of a batch: at once, or handed to BackgroundDeletes.
Delete = Callable[[list[str]], None]

# Pauses after a failed poll: doubling from the first, capped, reset by a good poll.
_FIRST_PAUSE_SECONDS = 0.5
_MAX_PAUSE_SECONDS = 30.0


@dataclass
class BatchOutcome:
    """Message ids by fate, for callers and tests."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    # FIFO: behind a failed message of their group, handed back to wait for it.
    held_back: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many messages the batch held."""
        return len(self.succeeded) + len(self.failed) + len(self.released) + len(self.held_back)


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
    def __init__(self, path: MessagePath, queue: SqsQueue, leases: LeaseKeeper | None = None):
        self._path = path
        self._queue = queue
        self._leases = leases or LeaseKeeper.for_config(queue, path.config)
        # Two leases: a failed message comes back after one, and may fail again.
        self._receive_size = ReceiveSize(
            is_fifo(queue.name_or_url),
            path.config.max_messages,
            lambda: 2.0 * self._leases.lease_seconds,
        )

    def run_once(self, stop: StopSignal | None = None) -> BatchOutcome:
        """Receive one batch (long polling) and process it; its deletes are done on return."""
        return self._poll(stop or StopSignal(), self._delete)

    def _poll(self, stop: StopSignal, delete: Delete) -> BatchOutcome:
        config = self._path.config
        raw_messages = self._queue.receive(
            self._receive_size.next(), config.wait_time_seconds, config.visibility_timeout
        )
        outcome = self._process_batch(raw_messages, stop, delete)
        if outcome.failed or outcome.held_back:
            self._receive_size.failed()
        return outcome

    def run_forever(self, stop: StopSignal, liveness: Liveness | None = None) -> None:
        """Poll until `stop`; a failed poll is logged and retried after a growing pause.

        Each batch's delete runs in the background while the next receive goes out
        (`pylon.deletes`); leaving waits for the last ones. The start heartbeat is the
        caller's (one per start); `liveness` says, rate-limited, that the loop still polls.
        """
        pause = _FIRST_PAUSE_SECONDS
        liveness = liveness or Liveness(0)
        try:
            with closing(BackgroundDeletes(self._queue)) as deletes:
                while not stop.requested:
                    try:
                        outcome = self._poll(stop, deletes.submit)
                    except (PylonError, ClientError, BotoCoreError) as error:
                        _log_poll_failure(self._queue, error, pause)
                        stop.wait(pause)
                        pause = min(pause * 2, _MAX_PAUSE_SECONDS)
                    else:
                        pause = _FIRST_PAUSE_SECONDS
                        liveness.poll(outcome.count)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the lease keeper's thread (run_forever does this when it returns)."""
        self._leases.close()

    def process_batch(self, raw_messages: list[SqsMessage], stop: StopSignal) -> BatchOutcome:
        """Process received messages; the done ones are deleted before this returns."""
        return self._process_batch(raw_messages, stop, self._delete)

    def _process_batch(
        self, raw_messages: list[SqsMessage], stop: StopSignal, delete: Delete
    ) -> BatchOutcome:
        outcome = BatchOutcome()
        # FIFO queues: a failure holds back the rest of its group.
        gate = GroupGate([raw["MessageId"] for raw in raw_messages])
        with self._leases.hold(raw_messages) as held:
            prepared: list[tuple[SqsMessage, Execution]] = []
            waiting: list[SqsMessage] = []
            for index, raw in enumerate(raw_messages):
                if stop.requested:
                    self._release(raw_messages[index:], held, outcome)
                    break
                group = message_group_of(raw.get("Attributes"))
                if gate.held_back(group, raw["MessageId"]) is not None:
                    waiting.append(raw)
                    continue
                held.start(raw)
                execution = self._prepare(raw, outcome)
                if execution is None:
                    held.failed(raw)
                    gate.failed(group, raw["MessageId"])
                    continue
                held.prepared(raw)
                prepared.append((raw, execution))
            delete(self._publish(prepared, held, outcome, gate, waiting))
            self._hold_back(waiting, held, outcome)
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

    def _publish(
        self,
        prepared: list[tuple[SqsMessage, Execution]],
        held: HeldBatch,
        outcome: BatchOutcome,
        gate: GroupGate,
        waiting: list[SqsMessage],
    ) -> list[str]:
        """Publish the outputs of all prepared messages; the receipt handles of the done."""
        executions = [execution for _, execution in prepared]
        errors = publish_in_group_order(self._path, executions, gate)
        done: list[str] = []
        for (raw, execution), error in zip(prepared, errors, strict=True):
            if error is None:
                outcome.succeeded.append(raw["MessageId"])
                done.append(raw["ReceiptHandle"])
                held.succeeded(raw)
            elif isinstance(error, HeldBackError):
                waiting.append(raw)
            else:
                log_failure(execution.inbound, raw["MessageId"], error)
                outcome.failed.append(raw["MessageId"])
                held.failed(raw)
        return done

    def _hold_back(self, waiting: list[SqsMessage], held: HeldBatch, outcome: BatchOutcome) -> None:
        """FIFO: hand back the messages behind a failure of their group. AWS keeps the group
        locked while the failed one is in flight, so they come again after it, in order."""
        if not waiting:
            return
        self._hand_back(waiting, held)
        outcome.held_back.extend(raw["MessageId"] for raw in waiting)
        logger.info(
            "%d message(s) handed back to wait for an earlier failed message of their "
            "group (FIFO order)",
            len(waiting),
        )

    def _delete(self, receipt_handles: list[str]) -> None:
        delete_done(self._queue, receipt_handles)

    def _release(self, remaining: list[SqsMessage], held: HeldBatch, outcome: BatchOutcome) -> None:
        """Stopping: hand unstarted messages back at once instead of after the timeout."""
        self._hand_back(remaining, held)
        outcome.released.extend(raw["MessageId"] for raw in remaining)
        logger.info("stopping: released %d unstarted message(s) back to the queue", len(remaining))

    def _hand_back(self, messages: list[SqsMessage], held: HeldBatch) -> None:
        """No longer leased: visible in the queue again at once."""
        held.released(messages)
        self._queue.release([raw["ReceiptHandle"] for raw in messages])


def _log_poll_failure(queue: SqsQueue, error: Exception, pause: float) -> None:
    logger.error(
        "polling %s failed: %s: %s; retrying in %.1f s (messages in hand come back after "
        "their lease)",
        queue.name_or_url,
        type(error).__name__,
        error,
        pause,
    )

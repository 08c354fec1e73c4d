"""Leases on received messages: renewed while in hand, and a time limit for hung tasks.

Receiving an SQS message leases it to this consumer for the visibility timeout. The
worker receives a batch (up to 10) and processes it one message at a time, so every
message of the batch - the one in hand and those still waiting their turn - must stay
invisible until it is deleted; otherwise another consumer receives it too and it is
processed twice. A `LeaseKeeper` holds each received batch and, from one background
thread, renews the lease of every message in it whenever half of the lease has run out
(one ChangeMessageVisibilityBatch call per 10 messages). A message leaves the lease when
it is deleted (done), released (stopping) or failed: a failed message is simply no
longer renewed, so SQS redelivers it when its current lease runs out and moves it to the
dead-letter queue after `maxReceiveCount`. SQS itself caps a lease at 12 hours from the
first receive; past that a renewal is refused and logged as a lost lease.

The time limit (`TASK_TIMEOUT_SECONDS`) is the keeper's other job. A Python thread cannot
be stopped from outside: an exception raised into it (from a signal handler, or as an
asynchronous exception) is lost on a task that catches everything, and cannot interrupt
one blocked in C code. So when the message in hand passes its deadline, the keeper makes
sure nothing is lost and then ends the process, the way a container whose health check
fails is replaced: it releases the hung message and the unstarted ones (visible again at
once), deletes those already done, logs one line naming the message, and exits with
code 70; ECS (or compose's `restart:`, or the harness supervisor) starts a fresh process.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from enum import Enum
from types import TracebackType

from botocore.exceptions import BotoCoreError, ClientError

from pylon.aws.sqs import SqsQueue
from pylon.config import ComponentConfig
from pylon.errors import PylonError
from pylon.wire import SqsMessage

logger = logging.getLogger(__name__)

# EX_SOFTWARE from sysexits.h: the process ends on purpose, because a task hung.
HUNG_TASK_EXIT_CODE = 70
# A failed renewal (the endpoint briefly unreachable) is retried this soon, well before
# the half of the lease that is left runs out.
_RETRY_FRACTION = 0.1
_MIN_RETRY_SECONDS = 0.2
_AWS_ERRORS = (PylonError, ClientError, BotoCoreError)


def exit_process() -> None:
    """The default reaction to a hung task: flush the logs and end the process now.

    `os._exit`, not `sys.exit`: this runs on the keeper's thread, and the main thread
    is the one stuck in the task, so nothing else would end the process.
    """
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(HUNG_TASK_EXIT_CODE)


class _State(Enum):
    WAITING = "waiting"
    IN_HAND = "in hand"
    # The task ran, its outputs wait to be published with the rest of the batch: if the
    # batch is abandoned now, it must be handed back, never deleted.
    PREPARED = "prepared"
    DONE = "done"


class HeldBatch:
    """The messages of one receive, leased until each is deleted, released or has failed.

    The worker reports each message's progress; everything else happens on the keeper's
    thread. Leaving the `with` block ends the lease of whatever is still held (the worker
    has deleted the done messages by then). Progress (in hand, prepared, done) matters
    only under a time limit, to settle the batch of a hung task; without one, only which
    messages are still held does, and progress reports cost nothing.
    """

    def __init__(self, keeper: LeaseKeeper, messages: Sequence[SqsMessage], renew_at: float):
        self._keeper = keeper
        self._tracks_progress = bool(keeper.task_timeout_seconds)
        self.states = {raw["ReceiptHandle"]: _State.WAITING for raw in messages}
        self.message_ids = {raw["ReceiptHandle"]: raw["MessageId"] for raw in messages}
        self.renew_at = renew_at
        self.deadline: float | None = None

    def start(self, raw: SqsMessage) -> None:
        """The worker takes `raw` in hand; its time limit starts now."""
        if self._tracks_progress:
            self._keeper._update(self, raw["ReceiptHandle"], _State.IN_HAND)

    def prepared(self, raw: SqsMessage) -> None:
        """The task finished; still leased while the batch's outputs are published."""
        if self._tracks_progress:
            self._keeper._update(self, raw["ReceiptHandle"], _State.PREPARED)

    def succeeded(self, raw: SqsMessage) -> None:
        """Done and published; still leased until the worker deletes it."""
        if self._tracks_progress:
            self._keeper._update(self, raw["ReceiptHandle"], _State.DONE)

    def failed(self, raw: SqsMessage) -> None:
        """No longer renewed: SQS redelivers it when the current lease runs out."""
        self._keeper._update(self, raw["ReceiptHandle"], None)

    def released(self, messages: Sequence[SqsMessage]) -> None:
        """No longer renewed: the worker hands these back to the queue itself."""
        for raw in messages:
            self._keeper._update(self, raw["ReceiptHandle"], None)

    def handles(self, *states: _State) -> list[str]:
        return [handle for handle, state in self.states.items() if state in states]

    def __enter__(self) -> HeldBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._keeper._forget(self)


class LeaseKeeper:
    """Renews the leases of held messages and enforces the task time limit.

    `lease_seconds` None means the queue's own VisibilityTimeout (looked up once);
    `task_timeout_seconds` None means no limit. `on_hung_task` runs on the keeper's
    thread after the batch of a hung task has been settled; by default it ends the
    process (see the module docstring for why).
    """

    def __init__(
        self,
        queue: SqsQueue,
        lease_seconds: int | None = None,
        task_timeout_seconds: int | None = None,
        on_hung_task: Callable[[], None] = exit_process,
    ) -> None:
        self._queue = queue
        self._lease_seconds = lease_seconds
        self.task_timeout_seconds = task_timeout_seconds
        self._on_hung_task = on_hung_task
        # The condition's own lock, taken directly where nothing waits or is notified:
        # under a time limit the worker updates three times per message, and Condition's
        # `with` is Python code.
        self._lock = threading.RLock()
        self._condition = threading.Condition(self._lock)
        self._batches: list[HeldBatch] = []
        self._thread: threading.Thread | None = None
        # Each thread serves one generation; close() ends it, a later hold() starts anew.
        self._generation = 0
        # When the keeper's thread wakes next (monotonic), -inf while it is awake.
        self._wake_at = -math.inf

    @classmethod
    def for_config(
        cls,
        queue: SqsQueue,
        config: ComponentConfig,
        on_hung_task: Callable[[], None] = exit_process,
    ) -> LeaseKeeper:
        """A keeper with the lease and time limit of a component's config."""
        return cls(queue, config.visibility_timeout, config.task_timeout_seconds, on_hung_task)

    @property
    def lease_seconds(self) -> int:
        if self._lease_seconds is None:
            self._lease_seconds = self._queue.visibility_timeout()
        return self._lease_seconds

    def hold(self, messages: Sequence[SqsMessage]) -> HeldBatch:
        """Lease `messages` (just received) until each is deleted, released or failed."""
        if not messages:
            return HeldBatch(self, messages, float("inf"))
        batch = HeldBatch(self, messages, time.monotonic() + self.lease_seconds / 2)
        with self._condition:
            self._batches.append(batch)
            self._start_thread()
            self._wake_if_sooner(batch.renew_at)
        return batch

    def close(self) -> None:
        """Stop the keeper's thread (a later `hold` starts another); held messages simply
        run out their current lease."""
        with self._condition:
            self._generation += 1
            self._batches.clear()
            self._condition.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # ------------------------------------------------------------ called by HeldBatch

    def _update(self, batch: HeldBatch, handle: str, state: _State | None) -> None:
        with self._lock:
            if state is None:
                batch.states.pop(handle, None)
            else:
                batch.states[handle] = state
            batch.deadline = None
            if state is _State.IN_HAND and self.task_timeout_seconds:
                batch.deadline = time.monotonic() + self.task_timeout_seconds
                self._wake_if_sooner(batch.deadline)

    def _wake_if_sooner(self, moment: float) -> None:
        """Wake the keeper's thread if `moment` comes before its next wake-up (lock held).

        Only then: a woken thread takes the GIL at the worker's next system call, and a
        thread switch per message or batch costs more than the message's own work. A
        cleared deadline or a dropped message needs no wake-up either; the keeper
        re-reads every batch whenever it wakes.
        """
        if moment < self._wake_at:
            self._condition.notify()

    def _forget(self, batch: HeldBatch) -> None:
        with self._condition:
            if batch in self._batches:
                self._batches.remove(batch)

    # ------------------------------------------------------------ the keeper's thread

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, args=(self._generation,), name="pylon-leases", daemon=True
            )
            self._thread.start()

    def _run(self, generation: int) -> None:
        while True:
            with self._condition:
                work = self._wait_for_work(generation)
            if work is None:
                return
            renewals, hung = work
            for batch, handles in renewals:
                self._renew(batch, handles)
            for batch in hung:
                self._stop_hung(batch)

    def _wait_for_work(
        self, generation: int
    ) -> tuple[list[tuple[HeldBatch, list[str]]], list[HeldBatch]] | None:
        """Sleep until a renewal or a deadline is due; None once closed (lock held)."""
        while self._generation == generation:
            now = time.monotonic()
            renewals = [
                (b, list(b.states)) for b in self._batches if b.renew_at <= now and b.states
            ]
            hung = [b for b in self._batches if b.deadline is not None and b.deadline <= now]
            for batch, _ in renewals:
                batch.renew_at = now + self.lease_seconds / 2
            for batch in hung:
                batch.deadline = None
                self._batches.remove(batch)
            if renewals or hung:
                return renewals, hung
            timeout = self._seconds_to_next_event(now)
            self._wake_at = math.inf if timeout is None else now + timeout
            self._condition.wait(timeout)
            self._wake_at = -math.inf
        return None

    def _seconds_to_next_event(self, now: float) -> float | None:
        times = [b.renew_at for b in self._batches if b.states]
        times += [b.deadline for b in self._batches if b.deadline is not None]
        return max(0.0, min(times) - now) if times else None

    def _renew(self, batch: HeldBatch, handles: list[str]) -> None:
        lease = self.lease_seconds
        try:
            refused = self._queue.change_visibility(handles, lease)
        except _AWS_ERRORS as error:
            retry = max(_MIN_RETRY_SECONDS, lease * _RETRY_FRACTION)
            logger.warning(
                "renewing the lease of %d message(s) failed (%s: %s); retrying in %.1f s",
                len(handles),
                type(error).__name__,
                error,
                retry,
            )
            with self._condition:
                batch.renew_at = time.monotonic() + retry
            return
        if refused:
            self._lost(batch, refused)

    def _lost(self, batch: HeldBatch, refused: list[str]) -> None:
        """SQS refused a renewal: the lease had run out and the message may be elsewhere."""
        with self._condition:
            ids = [batch.message_ids[h] for h in refused if h in batch.states]
            for handle in refused:
                batch.states.pop(handle, None)
        logger.warning(
            "lease lost on message(s) %s: SQS refused to renew it (its visibility timeout had "
            "run out, or reached SQS's 12-hour cap); another consumer may process it too, "
            "with the same ingestionId",
            ", ".join(ids),
        )

    def _stop_hung(self, batch: HeldBatch) -> None:
        with self._condition:
            in_hand = batch.handles(_State.IN_HAND)
            # Prepared messages' outputs were never published: they go back, like the rest.
            waiting = batch.handles(_State.WAITING, _State.PREPARED)
            done = batch.handles(_State.DONE)
            hung_ids = ", ".join(batch.message_ids[h] for h in in_hand)
        logger.error(
            "message %s hung: still in hand after TASK_TIMEOUT_SECONDS=%s; releasing it and "
            "%d other unpublished message(s) for redelivery now, deleting %d done, then "
            "stopping the process so the hung task stops (the orchestrator starts a fresh one)",
            hung_ids,
            self.task_timeout_seconds,
            len(waiting),
            len(done),
            extra={"message_id": hung_ids},
        )
        self._settle(done, in_hand + waiting)
        self._on_hung_task()

    def _settle(self, done: list[str], back: list[str]) -> None:
        """Delete what is done, hand back the rest; a failure here loses nothing, so log it."""
        for action, handles, what in (
            (self._queue.delete, done, "deleting the done messages"),
            (self._queue.release, back, "releasing the others"),
        ):
            if not handles:
                continue
            try:
                action(handles)
            except _AWS_ERRORS as error:
                logger.warning(
                    "%s of the hung batch failed (%s); they come back after their lease, "
                    "with the same ingestionId if processed again",
                    what,
                    error,
                )

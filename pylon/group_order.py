"""Group order for a batch from a FIFO queue: a failure holds back the rest of its group.

AWS hands a consumer the messages of one message group in order and no more of that group
while any is in flight. Within one batch it is the consumer's job not to overtake: once a
message of group G fails, every later message of G in the batch must wait (released to
the queue, or reported as failed to Lambda) until the failed one succeeds or is
dead-lettered, while the other groups go on.

Outputs are published in rounds: round k publishes the k-th message of every group still
going, so one failed publish never lets a later message of the same group out first. A
batch from a standard queue (no groups) is one round, as before.

A message handed back this way was received, so SQS counts the receive against its
maxReceiveCount: received again with every retry of the failed one, it could be
dead-lettered without ever failing. So after a failure a queue worker asks for one
message at a time for a while (`ReceiveSize`): the failed message is then the only one of
its group it can get, and the messages behind it stay unreceived until it is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from pylon.errors import PylonError
from pylon.execution import Execution
from pylon.processing import MessagePath

logger = logging.getLogger(__name__)


class HeldBackError(PylonError):
    """Not processed now: an earlier message of its FIFO group failed in this batch."""


class GroupGate:
    """Remembers which groups failed in this batch, and where; None (a standard queue)
    never waits. Only messages AFTER a failed one in the batch wait: the ones before it
    in its group are unaffected (they go first anyway)."""

    def __init__(self, batch_order: Sequence[str]) -> None:
        self._batch_order = batch_order
        # Positions are needed only once a group has failed: most batches never build them.
        self._position: dict[str, int] | None = None
        self._failed: dict[str, str] = {}

    def held_back(self, group: str | None, message_id: str) -> HeldBackError | None:
        """The reason `message_id` must wait, or None when it may go on."""
        failed = self._failed.get(group) if group is not None else None
        if failed is None or self._at(message_id) <= self._at(failed):
            return None
        return HeldBackError(
            f"message {message_id} waits: message {failed} of its group "
            f"{group!r} failed before it in this batch (FIFO order)"
        )

    def failed(self, group: str | None, message_id: str) -> None:
        if group is None:
            return
        earlier = self._failed.get(group)
        if earlier is None or self._at(message_id) < self._at(earlier):
            self._failed[group] = message_id

    def _at(self, message_id: str) -> float:
        if self._position is None:
            self._position = {queued: index for index, queued in enumerate(self._batch_order)}
        return self._position.get(message_id, float("inf"))


def publish_in_group_order(
    path: MessagePath, executions: Sequence[Execution], gate: GroupGate
) -> list[Exception | None]:
    """Like `MessagePath.publish`, in rounds per group; a held-back execution's error is
    a HeldBackError (its hooks are finished with it)."""
    for execution in executions:
        if execution.inbound is not None and execution.inbound.group_id is not None:
            break
    else:
        return path.publish(executions)  # a standard queue: one round, nothing waits
    identities = [_identity(execution) for execution in executions]
    results: list[Exception | None] = [None] * len(executions)
    pending = list(range(len(executions)))
    while pending:
        this_round, later, groups = [], [], set()
        for index in pending:
            execution = executions[index]
            group, message_id = identities[index]
            held = gate.held_back(group, message_id)
            if held is not None:
                results[index] = held
                path.finish_unpublished(execution, held)
            elif group is not None and group in groups:
                later.append(index)
            else:
                groups.add(group)
                this_round.append(index)
        errors = path.publish([executions[index] for index in this_round]) if this_round else []
        for index, error in zip(this_round, errors, strict=True):
            results[index] = error
            if error is not None:
                gate.failed(*identities[index])
        pending = later
    return results


def _identity(execution: Execution) -> tuple[str | None, str]:
    inbound = execution.inbound
    if inbound is None:
        return None, execution.label
    return inbound.group_id, inbound.message_id


class ReceiveSize:
    """How many messages a worker asks its queue for: its MAX_MESSAGES, except on a FIFO
    queue for `window()` seconds after a failure (renewed by each one), when it is one."""

    def __init__(
        self,
        fifo: bool,
        max_messages: int,
        window: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fifo = fifo
        self._max = max_messages
        self._window = window
        self._clock = clock
        self._careful_until = 0.0

    def next(self) -> int:
        return 1 if self._clock() < self._careful_until else self._max

    def failed(self) -> None:
        """A message of this queue failed (or was held back behind a failure)."""
        if not self._fifo or self._max == 1:
            return
        window = self._window()
        if self._clock() >= self._careful_until:
            logger.info(
                "a FIFO message failed: receiving one message at a time for %.0f s, so the "
                "messages behind it are not received (and counted towards maxReceiveCount) "
                "with each of its retries",
                window,
            )
        self._careful_until = self._clock() + window

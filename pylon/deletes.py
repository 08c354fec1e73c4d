"""Deleting the messages of a batch once their outputs are published.

`delete_done` deletes at once. `BackgroundDeletes` lets `runForever` start its next
receive while the previous batch's DeleteMessageBatch is still on the wire: the loop
needs nothing from the delete's answer, since a refused or failed delete only means the
message comes back after its lease and is processed again, with the same ingestionId,
and that is logged either way. Delivery stays at-least-once (a delete is only submitted
after every output of its messages was published); the saving is one round trip per
batch, the time SQS takes to answer a delete. The thread is kept on the loop's core
(`pylon.same_core`): left to wander, it made every call of both threads dearer.
"""

from __future__ import annotations

import logging
import queue
import threading

from botocore.exceptions import BotoCoreError, ClientError

from pylon.aws.sqs import SqsQueue
from pylon.errors import PylonError
from pylon.same_core import CoreFollower

logger = logging.getLogger(__name__)

# One batch waits while one is being deleted; a third submit blocks the loop, so deletes
# never fall further behind than that when SQS is slow.
_PENDING_BATCHES = 1
_CLOSE_TIMEOUT_S = 30.0


def delete_done(queue: SqsQueue, receipt_handles: list[str]) -> None:
    """Delete the done messages; if SQS refuses, they are redone later, never lost."""
    if not receipt_handles:
        return
    try:
        queue.delete(receipt_handles)
    except (PylonError, ClientError, BotoCoreError) as error:
        logger.error(
            "deleting %d processed message(s) failed (%s); they will be delivered and "
            "processed again, with the same ingestionId",
            len(receipt_handles),
            error,
        )


class BackgroundDeletes:
    """`delete_done` on a thread of its own; `close()` waits until every submit is done
    (use it as `with contextlib.closing(BackgroundDeletes(queue)) as deletes:`)."""

    def __init__(self, queue_: SqsQueue) -> None:
        self._queue = queue_
        self._pending: queue.Queue[list[str] | None] = queue.Queue(_PENDING_BATCHES)
        self._thread = threading.Thread(target=self._run, name="pylon-deletes", daemon=True)
        self._thread.start()
        self._same_core = CoreFollower(self._thread)

    def submit(self, receipt_handles: list[str]) -> None:
        """Queue a batch's deletes; blocks while an earlier batch still waits its turn."""
        if receipt_handles:
            self._same_core.follow()
            self._pending.put(receipt_handles)

    def _run(self) -> None:
        while (handles := self._pending.get()) is not None:
            try:
                delete_done(self._queue, handles)
            except Exception:
                # Unexpected (a bug, not an AWS error): keep serving, or the loop would
                # block on its next submit; the messages simply come back and are redone.
                logger.exception("deleting %d processed message(s) failed", len(handles))

    def close(self) -> None:
        """Finish the submitted deletes, then stop the thread."""
        self._pending.put(None)
        self._thread.join(_CLOSE_TIMEOUT_S)
        if self._thread.is_alive():
            logger.warning(
                "deletes still running after %.0f s; the messages not yet deleted come back "
                "after their lease and are processed again, with the same ingestionId",
                _CLOSE_TIMEOUT_S,
            )

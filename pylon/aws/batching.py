"""Splitting outgoing messages into AWS batch requests.

SNS PublishBatch and SQS SendMessageBatch take at most 10 entries AND at most 256 KiB in
total per request, so both limits decide where a batch ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pylon.wire import WireMessage

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024


def batches(messages: Sequence[WireMessage]) -> Iterator[list[tuple[int, WireMessage]]]:
    """Yield lists of (index, message) that each fit one batch request."""
    batch: list[tuple[int, WireMessage]] = []
    size = 0
    for index, message in enumerate(messages):
        message_size = message.size_bytes
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + message_size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((index, message))
        size += message_size
    if batch:
        yield batch

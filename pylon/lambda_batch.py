"""Lambda: SQS event batches with partial batch responses.

Returning `{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}` (with
ReportBatchItemFailures on the event source mapping) makes SQS redeliver only the failed
records; the successful ones are deleted by Lambda and never redone.

Lambda owns the records' visibility and stops a hung invocation itself (the function's
timeout, which AWS requires to be no longer than the queue's visibility timeout), so no
lease is renewed here. A timeout fails the whole invocation: every record comes back,
the done ones too (processed again with the same ingestionId). To avoid that, with
TASK_TIMEOUT_SECONDS set a record is only started while the invocation has at least that
long left; the rest are reported as failures without being started.

From a FIFO queue, a failed record is reported together with every later record of its
message group (AWS requires this to keep the group in order); other groups go on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from pylon.codec import inbound_from_lambda_record, message_group_of
from pylon.errors import MessageDecodeError
from pylon.execution import Execution
from pylon.group_order import GroupGate, HeldBackError, publish_in_group_order
from pylon.models.messages import ObjectType
from pylon.processing import MessagePath
from pylon.wire import BatchItemFailure, BatchResponse, InboundMessage, LambdaSqsRecord
from pylon.worker import log_failure

logger = logging.getLogger(__name__)


def is_sqs_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return False
    for record in records:  # a loop, not all(...): no generator per invocation
        if not isinstance(record, dict) or record.get("eventSource") != "aws:sqs":
            return False
    return True


SecondsLeft = Callable[[], float]


def remaining_time(context: Any) -> SecondsLeft | None:
    """Seconds the invocation has left, read from Lambda's context (None without one)."""
    probe = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(probe):
        return None
    return lambda: float(probe()) / 1000


def handle_sqs_event(
    path: MessagePath, event: dict[str, Any], seconds_left: SecondsLeft | None = None
) -> BatchResponse:
    """Prepare every record, publish their outputs together; report exactly the records
    that failed or were not started."""
    records = event["Records"]
    # Every id first: a record without one must fail the invocation before any work.
    message_ids = [_message_id(record) for record in records]
    failures: list[BatchItemFailure] = []
    prepared: list[tuple[str, Execution]] = []
    gate = GroupGate(message_ids)
    limit = path.config.task_timeout_seconds
    for index, (message_id, record) in enumerate(zip(message_ids, records, strict=True)):
        if _too_late_to_start(limit, seconds_left):
            failures += _not_started(path, message_ids[index:])
            break
        group = message_group_of(record.get("attributes"))
        held = gate.held_back(group, message_id)
        if held is not None:
            _log_held_back(held)
            failures.append({"itemIdentifier": message_id})
            continue
        execution = _prepare(path, message_id, record)
        if execution is None:
            gate.failed(group, message_id)
            failures.append({"itemIdentifier": message_id})
        else:
            prepared.append((message_id, execution))
    return {"batchItemFailures": failures + _publish(path, prepared, gate)}


def _prepare(path: MessagePath, message_id: str, record: LambdaSqsRecord) -> Execution | None:
    """The record's execution, up to publishing; None (logged) when it failed."""
    inbound = None
    try:
        inbound = inbound_from_lambda_record(record)
        return path.prepare(inbound)
    except Exception as error:
        log_failure(inbound, message_id, error)
        return None


def _publish(
    path: MessagePath, prepared: list[tuple[str, Execution]], gate: GroupGate
) -> list[BatchItemFailure]:
    """Publish the prepared records' outputs together; the records that did not get out."""
    errors = publish_in_group_order(path, [execution for _, execution in prepared], gate)
    failures: list[BatchItemFailure] = []
    for (message_id, execution), error in zip(prepared, errors, strict=True):
        if error is None:
            continue
        if isinstance(error, HeldBackError):
            _log_held_back(error)
        else:
            log_failure(execution.inbound, message_id, error)
        failures.append({"itemIdentifier": message_id})
    return failures


def _log_held_back(error: HeldBackError) -> None:
    logger.info("%s; reported as failed so SQS redelivers it in order", error)


def _not_started(path: MessagePath, message_ids: list[str]) -> list[BatchItemFailure]:
    logger.warning(
        "less than TASK_TIMEOUT_SECONDS=%s left in this invocation: %d record(s) not "
        "started, reported as failed so SQS redelivers them",
        path.config.task_timeout_seconds,
        len(message_ids),
    )
    return [{"itemIdentifier": message_id} for message_id in message_ids]


def _too_late_to_start(limit: int | None, seconds_left: SecondsLeft | None) -> bool:
    """Whether fewer than `limit` (TASK_TIMEOUT_SECONDS) seconds are left to start a record."""
    return limit is not None and seconds_left is not None and seconds_left() < limit


def _message_id(record: LambdaSqsRecord) -> str:
    message_id = record.get("messageId") if isinstance(record, dict) else None
    if not isinstance(message_id, str) or not message_id:
        # Without an id the failure cannot be reported alone; failing the invocation makes
        # Lambda retry the whole batch, which loses nothing.
        raise MessageDecodeError("Lambda SQS record has no messageId; failing the whole batch")
    return message_id


def handle_direct_event(path: MessagePath, event: Any, request_id: str) -> dict[str, Any]:
    """A non-SQS invocation (direct, scheduled): the event becomes a lambdaEvent message."""
    body = json.dumps(event if isinstance(event, dict) else {"event": event})
    inbound = InboundMessage(request_id, "", body, {"objectType": ObjectType.LAMBDA_EVENT.value})
    execution = path.run(inbound)
    step = execution.ingestion_step
    return {"ingestionId": step.ingestionId if step else None, "outputs": len(execution.wires)}

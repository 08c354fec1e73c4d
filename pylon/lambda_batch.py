"""Lambda: SQS event batches with partial batch responses.

Returning `{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}` (with
ReportBatchItemFailures on the event source mapping) makes SQS redeliver only the failed
records; the successful ones are deleted by Lambda and never redone.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pylon.codec import inbound_from_lambda_record
from pylon.errors import MessageDecodeError
from pylon.execution import Execution
from pylon.models.messages import ObjectType
from pylon.processing import MessagePath
from pylon.wire import BatchItemFailure, BatchResponse, InboundMessage, LambdaSqsRecord
from pylon.worker import log_failure

logger = logging.getLogger(__name__)


def is_sqs_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return isinstance(records, list) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records
    )


def handle_sqs_event(path: MessagePath, event: dict[str, Any]) -> BatchResponse:
    """Process every record, publishing their outputs together; report exactly the failed."""
    message_ids = [_message_id(record) for record in event["Records"]]
    failures: list[BatchItemFailure] = []
    prepared: list[tuple[str, Execution]] = []
    for message_id, record in zip(message_ids, event["Records"], strict=True):
        inbound = None
        try:
            inbound = inbound_from_lambda_record(record)
            prepared.append((message_id, path.prepare(inbound)))
        except Exception as error:
            log_failure(inbound, message_id, error)
            failures.append({"itemIdentifier": message_id})
    errors = path.publish([execution for _, execution in prepared])
    for (message_id, execution), publish_error in zip(prepared, errors, strict=True):
        if publish_error is not None:
            log_failure(execution.inbound, message_id, publish_error)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


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

"""Lineage: one IngestionStep per pipeline/source execution, stamped on every output.

The step's id is derived from the component and the input message id, so processing the
same input twice (at-least-once delivery) yields the same ingestionId and consumers can
de-duplicate. Sources have no input and get a random id per run.
"""

from __future__ import annotations

import hashlib
import uuid

from pylon.execution import Execution
from pylon.hooks import Hook
from pylon.models.data_asset import DataAsset
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage, ObjectType

# Fixed namespace for uuid5: changing it would change every derived ingestionId.
LINEAGE_NAMESPACE = uuid.UUID("6f2d3c1e-8a4b-5c9d-9e0f-1a2b3c4d5e6f")
_NAMESPACE_BYTES = LINEAGE_NAMESPACE.bytes


def ingestion_id_for(artifact_name: str, input_message_id: str | None) -> str:
    if input_message_id is None:
        return str(uuid.uuid4())
    return _uuid5_text(f"{artifact_name}/{input_message_id}")


# The hex digit that starts a UUID's fourth group, given the hash's digit there: its top
# two bits are the RFC 4122 variant, 10.
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}


def _uuid5_text(name: str) -> str:
    """`str(uuid.uuid5(LINEAGE_NAMESPACE, name))` (RFC 4122 section 4.3), written straight
    from the hash's hex digits: a quarter of the cost, once per message."""
    text = hashlib.sha1(_NAMESPACE_BYTES + name.encode()).hexdigest()
    # Version 5 replaces the third group's first digit; the variant, the fourth's.
    return (
        f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT_DIGIT[text[16]]}{text[17:20]}-"
        f"{text[20:32]}"
    )


class LineageHook(Hook):
    """Creates the step before the task and stamps outputs (and adds the step) after it."""

    def before_task(self, execution: Execution) -> None:
        config = execution.config
        message = execution.message
        execution.ingestion_step = IngestionStep.create(
            ingestion_id=ingestion_id_for(
                config.artifact_name, execution.inbound.message_id if execution.inbound else None
            ),
            artifact_name=config.artifact_name,
            artifact_version=config.artifact_version,
            parent_ingestion_id=message.ingestionId if message else None,
        )

    def after_task(self, execution: Execution) -> None:
        step = execution.ingestion_step
        if step is None:
            return
        step.metadata = dict(execution.result.metadata)
        for output in execution.outputs:
            stamp(output, step.ingestionId)
        execution.outputs.append(step_message(step))


def stamp(message: BaseMessage, ingestion_id: str) -> None:
    message.ingestionId = ingestion_id
    if isinstance(message.body, DataAsset):
        message.body.stamp(ingestion_id)


def step_message(step: IngestionStep) -> BaseMessage:
    return BaseMessage(
        body=step, objectType=ObjectType.INGESTION_STEP, ingestionId=step.ingestionId
    )

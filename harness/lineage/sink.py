"""The lineage recorder: a real `SinkComponent` that stores every published ingestion step.

Its own module, importing only the runtime and the store, so it runs in the runtime-only
base image like any other component (`harness.lineage.recorder` wires it into a spec).
"""

from __future__ import annotations

import functools

import pylon
from harness.lineage.store import LineageStore
from pylon.config import ComponentConfig
from pylon.errors import TaskError
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage, ObjectType

TABLE_KEY = "LINEAGE_TABLE_NAME"


@functools.cache
def _store(table: str) -> LineageStore:
    """One client per table for the life of the process (the sink's warm path)."""
    return LineageStore(table)


@pylon.SinkComponent
def recordLineage(message: BaseMessage | None, config: ComponentConfig) -> None:
    """Write the step into the lineage table; a step already there is left as it is."""
    assert message is not None  # a sink always receives a message
    step = message.body
    if not isinstance(step, IngestionStep):
        raise TaskError(
            f"message {message.messageId}: the lineage recorder takes objectType="
            f"{ObjectType.INGESTION_STEP.value} only, got {message.objectType.value}; "
            "check its subscriptions' filter policy"
        )
    _store(str(config[TABLE_KEY])).record(step)

"""The lineage recorder: a real `SinkComponent` that stores every published ingestion step.

When a spec asks for lineage (`lineage: {table: NAME}`), `with_lineage_recorder` adds
this sink to the pipeline: its queue is subscribed to every topic with raw delivery and
the filter `objectType=ingestionStep`, so it runs like any other component (a process,
a thread, under `pylon up`) and keeps working when a component is added to the spec.
"""

from __future__ import annotations

import dataclasses
import functools

import pylon
from harness.lineage.store import LineageStore
from harness.spec import ComponentSpec, PipelineSpec, SpecError, Subscription
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import TaskError
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage, ObjectType

RECORDER_NAME = "pylon-lineage"
RECORDER_ENTRYPOINT = "harness.lineage.recorder:recordLineage"
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


def with_lineage_recorder(spec: PipelineSpec) -> PipelineSpec:
    """`spec` plus the recorder sink when it asks for lineage (unchanged otherwise).

    Apply it after prefixing: the recorder subscribes to the topics and writes to the
    table by their final names. Applying it twice changes nothing.
    """
    if not spec.lineage_table:
        return spec
    existing = spec.components.get(RECORDER_NAME)
    if existing is not None and existing.entrypoint != RECORDER_ENTRYPOINT:
        raise SpecError(
            f"{spec.source}: components.{RECORDER_NAME}: this name is reserved for the lineage "
            "recorder Pylon adds when `lineage` is set; rename the component"
        )
    recorder = ComponentSpec(
        name=RECORDER_NAME,
        kind=ComponentKind.SINK,
        entrypoint=RECORDER_ENTRYPOINT,
        input_queue=f"{spec.name}-{RECORDER_NAME}-in",
        subscriptions=tuple(
            Subscription(topic, {"objectType": [ObjectType.INGESTION_STEP.value]})
            for topic in spec.all_topics
        ),
        config={TABLE_KEY: spec.lineage_table},
        env={"IMAGE_NAME": RECORDER_NAME},
    )
    return dataclasses.replace(spec, components={**spec.components, RECORDER_NAME: recorder})

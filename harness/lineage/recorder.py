"""Adding the lineage recorder (`harness.lineage.sink`) to a pipeline spec.

When a spec asks for lineage (`lineage: {table: NAME}`), `with_lineage_recorder` adds
the sink to the pipeline: its queue is subscribed to every topic with raw delivery and
the filter `objectType=ingestionStep`, so it runs like any other component (a process,
a thread, under `pylon up`) and keeps working when a component is added to the spec.
"""

from __future__ import annotations

import dataclasses

from harness.lineage.sink import TABLE_KEY, recordLineage
from harness.spec import ComponentSpec, PipelineSpec, SpecError, Subscription
from pylon.config import ComponentKind
from pylon.models.messages import ObjectType

RECORDER_NAME = "pylon-lineage"
RECORDER_ENTRYPOINT = f"{recordLineage.__module__}:{recordLineage.task_name}"


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

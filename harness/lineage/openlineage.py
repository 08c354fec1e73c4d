"""Ingestion steps as OpenLineage run events, written to a JSON Lines file or POSTed.

Each step is one run of one job: job namespace = the pipeline, job name = the component
(`artifactName`), run id = the `ingestionId`, and the `parent` run facet points at the
step of `parentIngestionId` (with the chain's root source as `root`). Events are built
with the `openlineage-python` client's own models, whose validators check the run ids
(UUIDs) and event times (ISO 8601 with a time) as they are constructed, and sent with its
own transports. Needs the `lineage` extra.

    events = run_events(LineageStore("docs-lineage").steps(), namespace="docs")
    export(events, file_transport(Path("lineage.jsonl")))
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import attr
import requests
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import JobFacet, RunFacet, job_type_job, parent_run
from openlineage.client.serde import Serde
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport
from openlineage.client.transport.transport import Transport

from harness.errors import HarnessError
from pylon.models.ingestion_step import IngestionStep

PRODUCER = f"urn:pylon-pipelines:{version('pylon-pipelines')}"
# Parents that are not recorded steps (an id set by hand on an input message) still need
# a job in the parent facet; they get this one.
EXTERNAL_JOB = "external"
# Ingestion ids are UUIDs already (uuid5 or uuid4); any other id set by hand is mapped to
# a uuid5 in this namespace so that it stays stable across exports.
RUN_ID_NAMESPACE = uuid.UUID("0d6f5a3e-3c1b-5e0a-9f7d-2b8c4e6a1f90")
_RETRIES = {"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.2}


class OpenLineageExportError(HarnessError):
    """A step cannot become a valid run event, or the event cannot be delivered."""


@attr.define
class PylonIngestionStepRunFacet(RunFacet):
    """Everything the ingestion step holds that OpenLineage has no field for."""

    ingestionId: str
    artifactName: str
    artifactVersion: str
    parentIngestionId: str | None = None
    dimUTCDateId: int | None = None
    dimUTCHour: int | None = None
    metadata: dict[str, Any] = attr.field(factory=dict)

    # A custom facet: it is checked against the generic RunFacet definition.
    @staticmethod
    def _get_schema() -> str:
        return "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"


def run_id(ingestion_id: str) -> str:
    """The OpenLineage run id (a UUID) of an ingestion id."""
    try:
        return str(uuid.UUID(ingestion_id))
    except ValueError:
        return str(uuid.uuid5(RUN_ID_NAMESPACE, ingestion_id))


def run_events(steps: Iterable[IngestionStep], namespace: str) -> list[RunEvent]:
    """One COMPLETE event per step, oldest first, parents resolved among `steps`."""
    known = {step.ingestionId: step for step in steps}
    ordered = sorted(known.values(), key=lambda s: (s.dimUTCTimestamp, s.ingestionId))
    return [run_event(step, namespace, known) for step in ordered]


def run_event(step: IngestionStep, namespace: str, known: Mapping[str, IngestionStep]) -> RunEvent:
    """The run event of one step; `known` steps give the parent's and root's job names."""
    try:
        facets: dict[str, RunFacet] = {"pylon_ingestionStep": _step_facet(step)}
        if step.parentIngestionId:
            facets["parent"] = _parent_facet(step.parentIngestionId, namespace, known)
        return RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=step.dimUTCTimestamp,
            run=Run(runId=run_id(step.ingestionId), facets=facets),
            job=Job(namespace=namespace, name=step.artifactName, facets=_job_facets()),
            producer=PRODUCER,
        )
    except (ValueError, TypeError) as exc:
        raise OpenLineageExportError(
            f"ingestion step {step.ingestionId} ({step.artifactName}) is not a valid "
            f"OpenLineage run event: {exc}"
        ) from None


def _step_facet(step: IngestionStep) -> PylonIngestionStepRunFacet:
    return PylonIngestionStepRunFacet(
        ingestionId=step.ingestionId,
        artifactName=step.artifactName,
        artifactVersion=step.artifactVersion,
        parentIngestionId=step.parentIngestionId,
        dimUTCDateId=step.dimUTCDateId,
        dimUTCHour=step.dimUTCHour,
        metadata=dict(step.metadata),
        producer=PRODUCER,
    )


def _job_facets() -> dict[str, JobFacet]:
    # Components consume queues continuously: STREAMING in OpenLineage's terms.
    return {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="STREAMING", integration="PYLON", jobType="COMPONENT",
            producer=PRODUCER,
        )
    }  # fmt: skip


def _parent_facet(
    parent_id: str, namespace: str, known: Mapping[str, IngestionStep]
) -> parent_run.ParentRunFacet:
    parent = known.get(parent_id)
    root = _root_of(parent_id, known)
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=run_id(parent_id)),
        job=parent_run.Job(
            namespace=namespace, name=parent.artifactName if parent else EXTERNAL_JOB
        ),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=run_id(root.ingestionId)),
            job=parent_run.RootJob(namespace=namespace, name=root.artifactName),
        )
        if root
        else None,
        producer=PRODUCER,
    )


def _root_of(ingestion_id: str, known: Mapping[str, IngestionStep]) -> IngestionStep | None:
    """The source step at the top of the chain, or None when the chain is broken."""
    seen: set[str] = set()
    step = known.get(ingestion_id)
    while step is not None and step.parentIngestionId and step.ingestionId not in seen:
        seen.add(step.ingestionId)
        step = known.get(step.parentIngestionId)
    return step if step is not None and not step.parentIngestionId else None


def event_json(event: RunEvent) -> str:
    """The event as the client serialises it for every transport."""
    return Serde.to_json(event)


# ---------------------------------------------------------------- transports


def file_transport(path: Path) -> FileTransport:
    """Events appended to `path`, one JSON object per line (the file is started afresh)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return FileTransport(FileConfig(log_file_path=str(path), append=True))


def http_transport(
    url: str, endpoint: str = "api/v1/lineage", timeout_s: float = 10
) -> HttpTransport:
    """Events POSTed to `url` + `endpoint` (Marquez's API path by default)."""
    try:
        return HttpTransport(
            HttpConfig(url=url, endpoint=endpoint, timeout=timeout_s, retry=_RETRIES)
        )
    except ValueError as exc:
        raise OpenLineageExportError(f"OpenLineage URL {url!r} is not usable: {exc}") from None


def export(events: Sequence[RunEvent], transport: Transport) -> int:
    """Emit every event in order; stop at the first that cannot be delivered."""
    for index, event in enumerate(events):
        try:
            transport.emit(event)
        except (requests.RequestException, RuntimeError, OSError) as exc:
            raise OpenLineageExportError(
                f"OpenLineage event {index + 1} of {len(events)} (run {event.run.runId}, job "
                f"{event.job.name}) was not delivered: {exc}"
            ) from None
    return len(events)

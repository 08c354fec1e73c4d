"""Queues (what SNS delivered, from their mirrors), journeys, the search box, replaying a
hop, exporting a journey as a test."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from harness.inspector import actions
from harness.inspector.store import Step, step_from_dict
from harness.inspector.web import Inspector, notices, redirect, render
from harness.lineage.store import LineageStore, LineageStoreError
from harness.spec import load_spec
from pylon.aws.s3 import S3Store
from pylon.errors import PylonError
from pylon.s3_pointer import S3Location

QUEUE_PAGE_ROWS = 500


def queue_page(inspector: Inspector, request: Request) -> Response:
    name = request.path_params["name"]
    if name not in inspector.pipeline.queues:
        return PlainTextResponse(f"no queue {name!r} in this pipeline", status_code=404)
    query = str(request.query_params.get("q", ""))
    messages = [m for m in inspector.store.messages("queue", name) if not query or m.matches(query)]
    shown = messages[-QUEUE_PAGE_ROWS:][::-1]
    depth = inspector.observer.depths.by_queue.get(name)
    return render(
        inspector,
        "queue.html",
        queue=name,
        query=query,
        depth=depth or {"visible": "?", "in_flight": "?"},
        messages=[
            {"seen": m, "sent": time.strftime("%H:%M:%S", time.localtime(m.sent_at_ms / 1000))}
            for m in shown
        ],
        more=max(0, len(messages) - QUEUE_PAGE_ROWS),
        **notices(request),
    )


def journey_page(inspector: Inspector, request: Request) -> Response:
    ingestion_id = request.path_params["ingestion_id"]
    journey = inspector.store.journey(ingestion_id, _recorded_steps(inspector, ingestion_id))
    return render(inspector, "journey.html", journey=journey, **notices(request))


def _recorded_steps(inspector: Inspector, ingestion_id: str) -> dict[str, Step]:
    """The chain from the lineage table, when the spec keeps one: steps published before
    the inspector started (or while it was not running) complete the journey's lineage."""
    table = inspector.pipeline.spec.lineage_table
    if not table:
        return {}
    store = LineageStore(table, inspector.session)
    steps: dict[str, Step] = {}
    current: str | None = ingestion_id
    try:
        while current and current not in steps:
            recorded = store.get(current)
            if recorded is None:
                break
            steps[current] = step_from_dict(recorded.to_dict())
            current = recorded.parentIngestionId
    except LineageStoreError:
        pass  # the table is optional here: the journey shows what the inspector saw
    return steps


def find_page(inspector: Inspector, request: Request) -> Response:
    """The header's search box: an ingestionId opens its journey, an s3:// URI its object."""
    text = str(request.query_params.get("id", "")).strip()
    if text.startswith("s3://"):
        return RedirectResponse(f"/object?uri={quote(text)}", status_code=303)
    if not text:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/journey/{quote(text, safe='')}", status_code=303)


def export(inspector: Inspector) -> Any:
    async def endpoint(request: Request) -> Response:
        ingestion_id = request.path_params["ingestion_id"]
        try:
            text = await asyncio.to_thread(_exported, inspector, ingestion_id)
        except (actions.FormError, PylonError) as exc:
            return PlainTextResponse(str(exc), status_code=409)
        name = f"test_journey_{ingestion_id[:8]}.py"
        return Response(text, media_type="text/x-python",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip

    return endpoint


def _exported(inspector: Inspector, ingestion_id: str) -> str:
    journey = inspector.store.journey(ingestion_id)
    spec = load_spec(Path(inspector.spec_path))
    published = next((m for m in journey.messages if m.where == "topic"), None)
    body = None
    if published is not None and published.payload_uri:
        location = S3Location.parse(published.payload_uri, "the input's payload")
        body = S3Store(inspector.session.client("s3")).get_bytes(location).decode("utf-8")
    return actions.export_test(journey, inspector.spec_path, spec.all_topics, body)


def replay_action(inspector: Inspector, form: dict[str, Any]) -> Response:
    seen = inspector.store.message(str(form["where"]), str(form["name"]), str(form["message_id"]))
    if seen is None:
        raise actions.FormError("that message is no longer in the inspector's memory")
    done = actions.replay_seen(inspector.pipeline, seen, inspector.session)
    return redirect(f"/journey/{seen.ingestion_id}", flash=done)

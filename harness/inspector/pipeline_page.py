"""The pipeline page: the graph as a table with live counts (Server-Sent Events), topics,
the components' config (redacted)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from harness.inspector.store import group_counts
from harness.inspector.web import Inspector, notices, render, templates
from harness.lineage.graph import mermaid
from pylon.config import ComponentConfig
from pylon.log_format import REDACTED

_LIVE_SECONDS = 1.0


def pipeline_page(inspector: Inspector, request: Request) -> Response:
    topics = [
        {"name": name, "counts": group_counts(inspector.store.messages("topic", name))}
        for name in inspector.pipeline.topics
    ]
    configs = {
        name: json.dumps(_redacted(component.pylon_config, component.spec.kind), indent=1)
        for name, component in inspector.pipeline.components.items()
    }
    return render(
        inspector,
        "pipeline.html",
        topics=topics,
        configs=configs,
        mermaid=mermaid(inspector.pipeline.spec),
        **_counts(inspector),
        **notices(request),
    )


def _redacted(config: dict[str, Any], kind: Any) -> dict[str, Any]:
    secret = set(ComponentConfig(kind, config).secret_values)
    return {k: (REDACTED if str(v) in secret else v) for k, v in config.items()}


def _counts(inspector: Inspector) -> dict[str, Any]:
    """The live figures: queue depths (from the observer), and per component its
    messages in the last minute and last heartbeat (from its log lines)."""
    depths = inspector.observer.depths.by_queue
    store = inspector.store
    now = time.time()
    rows = []
    for name, component in inspector.pipeline.components.items():
        spec = component.spec
        queue = depths.get(spec.input_queue or "")
        dead = depths.get(spec.dead_letter_queue or "")
        beat = store.last_heartbeat(name)
        rows.append(
            {
                "component": name,
                "kind": spec.kind.value.removesuffix("Component").lower(),
                "subscriptions": [
                    f"{s.topic}" + (f" ({json.dumps(s.filter_policy)})" if s.filter_policy else "")
                    for s in spec.subscriptions
                ],
                "queue": spec.input_queue,
                "waiting": queue.visible if queue else "-",
                "in_flight": queue.in_flight if queue else "-",
                "dead_letters": dead.visible + dead.in_flight if dead else "-",
                "throughput": store.processed_since(name, now - 60),
                "heartbeat": f"{now - beat:.0f} s ago" if beat else "(no log seen)",
                "output": spec.output_topic,
            }
        )
    return {"rows": rows, "updated": time.strftime("%H:%M:%S"), "seen": store.count()}


class _LiveCounts:
    """The counts fragment, rendered at most once per interval however many pages are
    open: ten pages cost the pipeline what one does."""

    def __init__(self, inspector: Inspector) -> None:
        self._inspector = inspector
        self._html = ""
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def html(self) -> str:
        async with self._lock:
            if time.monotonic() - self._at >= _LIVE_SECONDS:
                self._html = templates.get_template("counts.html").render(
                    **_counts(self._inspector)
                )
                self._at = time.monotonic()
            return self._html


def events(inspector: Inspector) -> Any:
    """Server-Sent Events: the counts table, every second."""
    live = _LiveCounts(inspector)

    async def endpoint(request: Request) -> StreamingResponse:
        async def stream() -> Any:
            while not await request.is_disconnected():
                html = await live.html()
                data = "".join(f"data: {line}\n" for line in html.splitlines())
                yield f"event: counts\n{data}\n"
                await asyncio.sleep(_LIVE_SECONDS)

        return StreamingResponse(stream(), media_type="text/event-stream")

    return endpoint

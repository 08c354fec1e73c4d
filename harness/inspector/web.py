"""What every page and action of the inspector shares: the `Inspector` they act on, the
templates, and the wrappers that make a plain function a route.

Pages run in a worker thread (boto3 calls block); actions are POSTs refused without the
page's CSRF token; a notice or an error travels to the next page in the query string.
Templates escape everything they show (autoescape): message content is data, never markup.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.inspector.actions import FormError
from harness.inspector.observer import PipelineObserver
from harness.inspector.store import MessageStore
from harness.provision import ProvisionedPipeline
from pylon.errors import PylonError

HERE = Path(__file__).parent
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


@dataclass
class Inspector:
    """What the app shows and acts on."""

    pipeline: ProvisionedPipeline
    store: MessageStore
    observer: PipelineObserver
    session: boto3.session.Session
    endpoint_url: str
    spec_path: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
)


class ServerTiming:
    """Adds `Server-Timing: app;dur=MS` (request in to response headers out) to every
    response: browsers' dev tools show it, and the benchmark reads it (bench/ui.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                headers = MutableHeaders(scope=message)
                headers.append("Server-Timing", f"app;dur={elapsed:.1f}")
            await send(message)

        await self.app(scope, receive, timed)


def render(inspector: Inspector, template: str, **context: Any) -> HTMLResponse:
    page = templates.get_template(template).render(
        pipeline_name=inspector.pipeline.spec.name,
        endpoint=inspector.endpoint_url,
        csrf=inspector.csrf,
        **context,
    )
    return HTMLResponse(page)


def page(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        inspector: Inspector = request.app.state.inspector
        return await asyncio.to_thread(handler, inspector, request)

    return endpoint


def action(inspector: Inspector, handler: Any) -> Any:
    """A state-changing action: refused without this page's CSRF token."""

    async def endpoint(request: Request) -> Response:
        form = dict(await request.form())
        if not secrets.compare_digest(str(form.get("csrf", "")), inspector.csrf):
            return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        try:
            return await asyncio.to_thread(handler, inspector, form)
        except (FormError, PylonError) as exc:
            return redirect(str(request.headers.get("referer") or "/"), error=str(exc))

    return endpoint


def redirect(url: str, flash: str = "", error: str = "") -> Response:
    """Back to `url`'s path on this server (never to another site named by a Referer),
    with a notice."""
    target = urlsplit(url).path or "/"
    query = "&".join(f"{k}={quoted(v)}" for k, v in (("flash", flash), ("error", error)) if v)
    return RedirectResponse(f"{target}?{query}" if query else target, status_code=303)


def quoted(text: str) -> str:
    return quote(text[:500])


def notices(request: Request) -> dict[str, str]:
    return {"flash": flash_of(request), "error": error_of(request)}


def flash_of(request: Request) -> str:
    return str(request.query_params.get("flash", ""))


def error_of(request: Request) -> str:
    return str(request.query_params.get("error", ""))

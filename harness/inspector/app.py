"""The inspector's web app: server-rendered pages (Starlette + Jinja2), htmx for the live
parts (Server-Sent Events), no build step, every asset served from the package.

Each page lives in its own module over an `Inspector` (`web`); this one routes. Security:
only Host headers naming this machine are answered (DNS rebinding), every state-changing
request is a POST carrying the page's CSRF token, every message body is escaped by the
templates (autoescape), config values are shown redacted.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from harness.inspector import dead_letters, journeys, objects, pipeline_page, send_page
from harness.inspector.web import HERE, LOCAL_HOSTS, Inspector, ServerTiming, action, page

__all__ = ["LOCAL_HOSTS", "Inspector", "create_app"]


def create_app(inspector: Inspector, allowed_hosts: list[str] | None = None) -> Starlette:
    routes = [
        Route("/", page(pipeline_page.pipeline_page)),
        Route("/events", pipeline_page.events(inspector)),
        Route("/queues/{name}", page(journeys.queue_page)),
        Route("/journey/{ingestion_id}", page(journeys.journey_page)),
        Route("/find", page(journeys.find_page)),
        Route("/replay", action(inspector, journeys.replay_action), methods=["POST"]),
        Route("/export/{ingestion_id}", journeys.export(inspector)),
        Route("/buckets", page(objects.buckets_page)),
        Route("/object", page(objects.object_page)),
        Route("/payload", objects.payload(inspector)),
        Route("/dead-letters", page(dead_letters.dead_letters_page)),
        Route(
            "/dead-letters/redrive",
            action(inspector, dead_letters.redrive_action),
            methods=["POST"],
        ),
        Route(
            "/dead-letters/delete", action(inspector, dead_letters.delete_action), methods=["POST"]
        ),
        Route("/dead-letters/edit", page(dead_letters.edit_page)),
        Route("/dead-letters/edit", action(inspector, dead_letters.edit_action), methods=["POST"]),
        Route("/send", page(send_page.send_page)),
        Route("/send", action(inspector, send_page.send_action), methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOCAL_HOSTS),
        Middleware(ServerTiming),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.inspector = inspector
    return app

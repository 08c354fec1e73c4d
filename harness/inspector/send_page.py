"""The send page: a Pylon message to any topic or queue of the pipeline."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from starlette.requests import Request
from starlette.responses import Response

from harness.inspector import actions
from harness.inspector.web import Inspector, error_of, flash_of, redirect, render
from pylon.models.messages import ObjectType


def _send_targets(inspector: Inspector) -> list[dict[str, str]]:
    return [
        {"value": f"{t.kind}:{t.name}", "label": f"{t.kind} {t.name}"}
        for t in actions.targets(inspector.pipeline)
    ]


def send_page(inspector: Inspector, request: Request) -> Response:
    options = _send_targets(inspector)
    form = actions.MessageForm(options[0]["value"] if options else "", "rawContent", "", "")
    return _send_form(inspector, form, error=error_of(request), flash=flash_of(request))


def _send_form(
    inspector: Inspector,
    form: actions.MessageForm,
    *,
    status: int = 200,
    error: str = "",
    flash: str = "",
) -> Response:
    response = render(
        inspector, "message_form.html", heading="Send a message", action="/send", hidden={},
        targets=_send_targets(inspector), form=form, object_types=[t.value for t in ObjectType],
        button="send", error=error, flash=flash,
    )  # fmt: skip
    response.status_code = status
    return response


def send_action(inspector: Inspector, form: dict[str, Any]) -> Response:
    """Send; a message that fails the schema comes back in the form with the error."""
    typed = actions.as_mapping(form)
    try:
        outcome = actions.send(inspector.pipeline, typed, inspector.session)
    except actions.FormError as exc:
        return _send_form(inspector, typed, status=422, error=str(exc))
    except (ClientError, BotoCoreError) as exc:
        return _send_form(inspector, typed, status=502, error=f"sending failed: {exc}")
    return redirect("/send", flash=f"sent to {form.get('target')} {outcome}")

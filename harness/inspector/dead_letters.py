"""The dead-letters page: what failed and why, redrive, edit and resend, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from harness.inspector import actions
from harness.inspector.web import Inspector, error_of, flash_of, notices, redirect, render
from harness.messaging.dlq import Edit, delete_dead_letter, list_dead_letters, redrive
from pylon.codec import encode
from pylon.models.messages import ObjectType


def _dead_letter_queues(inspector: Inspector) -> dict[str, str]:
    return {
        name: c.dead_letter_queue_url
        for name, c in inspector.pipeline.components.items()
        if c.dead_letter_queue_url
    }


def dead_letters_page(inspector: Inspector, request: Request) -> Response:
    queues = []
    for component, url in _dead_letter_queues(inspector).items():
        letters = [
            {**vars(letter), "reason": inspector.store.failure_reason(_original_id(letter))}
            for letter in list_dead_letters(url, inspector.session)
        ]
        queues.append({"component": component, "name": url.rsplit("/", 1)[-1], "letters": letters})
    return render(inspector, "dead_letters.html", queues=queues, **notices(request))


def _original_id(letter: Any) -> str:
    """SQS keeps a message's id when it moves it to the dead-letter queue."""
    return str(letter.message_id)


def _dlq(inspector: Inspector, component: str) -> str:
    url = _dead_letter_queues(inspector).get(component)
    if url is None:
        raise actions.FormError(f"component {component!r} has no dead-letter queue")
    return url


def redrive_action(inspector: Inspector, form: dict[str, Any]) -> Response:
    component = str(form.get("component", ""))
    message_id = str(form.get("message_id") or "")
    result = redrive(_dlq(inspector, component), session=inspector.session,
                     only={message_id} if message_id else None)  # fmt: skip
    left = f"; left: {result.left}" if result.left else ""
    return redirect("/dead-letters", flash=f"moved {result.count} message(s) back{left}")


def delete_action(inspector: Inspector, form: dict[str, Any]) -> Response:
    message_id = str(form.get("message_id", ""))
    deleted = delete_dead_letter(
        _dlq(inspector, str(form.get("component", ""))), message_id, inspector.session
    )
    return redirect(
        "/dead-letters", flash=f"deleted {message_id}" if deleted else f"{message_id} was not there"
    )


def edit_page(inspector: Inspector, request: Request) -> Response:
    component = str(request.query_params.get("component", ""))
    message_id = str(request.query_params.get("message_id", ""))
    try:
        letters = list_dead_letters(_dlq(inspector, component), inspector.session)
    except actions.FormError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    letter = next((x for x in letters if x.message_id == message_id), None)
    if letter is None:
        return PlainTextResponse(f"no dead letter {message_id}", status_code=404)
    attributes = "\n".join(f"{k}={v}" for k, v in letter.attributes.items() if k != "objectType")
    form = actions.MessageForm(
        "", letter.attributes.get("objectType", "rawContent"), attributes, letter.body
    )
    return _edit_form(
        inspector, component, message_id, form, error=error_of(request), flash=flash_of(request)
    )


def _edit_form(
    inspector: Inspector, component: str, message_id: str, form: actions.MessageForm,
    *, status: int = 200, error: str = "", flash: str = "",
) -> Response:  # fmt: skip
    response = render(
        inspector, "message_form.html", heading=f"Edit and resend {message_id}", action="/dead-letters/edit",
        hidden={"component": component, "message_id": message_id}, targets=[], form=form,
        object_types=[t.value for t in ObjectType], button="resend to its queue", error=error, flash=flash,
    )  # fmt: skip
    response.status_code = status
    return response


def edit_action(inspector: Inspector, form: dict[str, Any]) -> Response:
    """Resend a dead letter as edited; a message that fails the schema comes back in
    the editor with the error, nothing lost and nothing moved."""
    component, message_id = str(form.get("component", "")), str(form.get("message_id", ""))
    typed = actions.as_mapping(form)
    try:
        wire = encode(actions.validated(typed), "the edited message")
    except actions.FormError as exc:
        return _edit_form(inspector, component, message_id, typed, status=422, error=str(exc))
    edit = Edit(wire.body, wire.attributes)
    result = redrive(_dlq(inspector, component), session=inspector.session,
                     only={message_id}, edits={message_id: edit})  # fmt: skip
    return redirect("/dead-letters", flash=f"resent {result.count} edited message(s)")

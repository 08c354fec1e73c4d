"""`pylon send`: one Pylon message into a queue or onto a topic, as a producer sends it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.shell import (
    AllowRemote,
    EndpointOption,
    connect,
    console,
    optional_spec,
    run_command,
)
from harness.messaging.payloads import OutgoingPayloads, payload_location
from harness.messaging.sending import FifoIds
from harness.messaging.targets import resolve_target, spec_target_name
from pylon.codec import decode_body
from pylon.models.messages import BaseMessage, ObjectType

PANEL = "Messages"


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(send)


def send(
    target: Annotated[str, typer.Argument(help="Queue name/URL or topic name/ARN.")],
    body: Annotated[str | None, typer.Option(help="Message body text.")] = None,
    file: Annotated[Path | None, typer.Option(help="Read the body from this file.")] = None,
    object_type: Annotated[
        str, typer.Option(help="objectType attribute.")
    ] = ObjectType.RAW_CONTENT.value,
    attribute: Annotated[
        list[str] | None,
        typer.Option("--attribute", "-a", help="Extra attribute NAME=VALUE (repeatable)."),
    ] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help="Pipeline spec: TARGET may be a component (its input queue), and a body over "
            "SNS's 256 KiB is offloaded under its payloads.s3_path.",
        ),
    ] = None,
    payload_bucket: Annotated[
        str | None,
        typer.Option(help="Offload a body over SNS's 256 KiB to this bucket (created if missing)."),
    ] = None,
    group_id: Annotated[
        str | None,
        typer.Option(help="FIFO target: the message group (required there, refused elsewhere)."),
    ] = None,
    dedup_id: Annotated[
        str | None,
        typer.Option(
            help="FIFO target: the de-duplication id (default: content-based where the target "
            "has it on, else a fresh one)."
        ),
    ] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Send one Pylon message to a queue or publish it on a topic (large bodies via S3)."""

    def action() -> None:
        spec = optional_spec(spec_file)
        connect(endpoint, allow_remote)
        resolved = resolve_target(spec_target_name(spec, target))
        message = _message(body, file, object_type, attribute or [])
        location = payload_location(spec.payload_s3_path if spec else None, payload_bucket, "send")
        payloads = OutgoingPayloads(location) if location else None
        outcome = resolved.send(message, payloads, FifoIds(group_id, dedup_id))
        console.print(f"sent to {resolved.kind} [bold]{resolved.name}[/bold] {outcome}")

    run_command(action)


def _message(
    body: str | None, file: Path | None, object_type: str, attributes: list[str]
) -> BaseMessage:
    if (body is None) == (file is None):
        raise typer.BadParameter("give exactly one of --body or --file")
    text = body if body is not None else file.read_text()  # type: ignore[union-attr]
    try:
        kind = ObjectType(object_type)
    except ValueError:
        raise typer.BadParameter(
            f"--object-type must be one of {[t.value for t in ObjectType]}"
        ) from None
    pairs = dict(_pair(a) for a in attributes)
    return BaseMessage(
        body=decode_body(kind, text, None, "--body"), objectType=kind, attributes=pairs
    )


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise typer.BadParameter(f"--attribute must be NAME=VALUE, got {text!r}")
    return name, value

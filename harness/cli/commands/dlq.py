"""`pylon dlq redrive`: move dead letters back to their queue after the cause is fixed.

    pylon dlq redrive parser-in-dlq
    pylon dlq redrive --spec pipeline.yaml --component parser [--max 100]

The work is `harness.messaging.dlq.redrive`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.shell import (
    AllowRemote,
    EndpointOption,
    connect,
    console,
    run_command,
)
from harness.messaging.dlq import RedriveError, RedriveResult, redrive
from harness.spec import load_spec

dlq_app = typer.Typer(
    help="Dead-letter queues: move failed messages back once the cause is fixed.",
    no_args_is_help=True,
)


PANEL = "Messages"


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq", rich_help_panel=PANEL)


@dlq_app.command("redrive")
def redrive_command(
    queue: Annotated[
        str | None, typer.Argument(help="Dead-letter queue name or URL (or use --spec).")
    ] = None,
    spec: Annotated[
        Path | None, typer.Option(help="Pipeline spec; with --component, that component's DLQ.")
    ] = None,
    component: Annotated[str | None, typer.Option(help="Component of --spec.")] = None,
    to: Annotated[
        str | None,
        typer.Option(help="Destination queue (default: the queue each message failed in)."),
    ] = None,
    max_messages: Annotated[
        int | None, typer.Option("--max", min=1, help="Move at most this many messages.")
    ] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Move messages from a dead-letter queue back (send first, then delete: none lost)."""

    def action() -> RedriveResult:
        dead_letter_queue, destination = _queues(queue, spec, component, to)
        connect(endpoint, allow_remote)
        return redrive(dead_letter_queue, destination, max_messages=max_messages)

    _print(run_command(action))


def _queues(
    queue: str | None, spec_file: Path | None, component: str | None, to: str | None
) -> tuple[str, str | None]:
    """(dead-letter queue, destination) from a queue argument or a spec's component."""
    if (queue is None) == (spec_file is None) or (spec_file is None) != (component is None):
        raise RedriveError("give a dead-letter queue, or --spec SPEC with --component NAME")
    if spec_file is None or component is None:
        assert queue is not None
        return queue, to
    spec = load_spec(spec_file)
    found = spec.components.get(component)
    if found is None:
        raise RedriveError(
            f"{spec_file}: no component {component!r}; components: {sorted(spec.components)}"
        )
    if found.dead_letter_queue is None or found.input_queue is None:
        raise RedriveError(f"{spec_file}: component {component!r} is a source: it has no queue")
    return found.dead_letter_queue, to or found.input_queue


def _print(result: RedriveResult) -> None:
    destinations = sorted(set(result.moved.values()))
    where = f" to {', '.join(destinations)}" if destinations else ""
    console.print(f"moved {result.count} message(s) from {result.dead_letter_queue}{where}")
    for message_id, reason in result.left.items():
        console.print(f"[yellow]left {message_id}[/yellow]: {reason}")

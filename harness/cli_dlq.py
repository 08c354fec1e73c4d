"""`pylon dlq redrive`: move dead letters back to their queue after the cause is fixed.

    pylon dlq redrive parser-in-dlq
    pylon dlq redrive --spec pipeline.yaml --component parser [--max 100]

Thin, like the rest of the CLI: the work is `harness.dlq.redrive`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.dlq import RedriveError, RedriveResult, redrive
from harness.emulators.selection import apply_to_environment, require_endpoint
from harness.spec import load_spec
from pylon.errors import PylonError

dlq_app = typer.Typer(
    help="Dead-letter queues: move failed messages back once the cause is fixed.",
    no_args_is_help=True,
)
_console = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


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
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="AWS-compatible endpoint URL (default: $PYLON_ENDPOINT, or the background emulator)."
        ),
    ] = None,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow an endpoint that is not on this machine.")
    ] = False,
) -> None:
    """Move messages from a dead-letter queue back (send first, then delete: none lost)."""
    try:
        dead_letter_queue, destination = _queues(queue, spec, component, to)
        apply_to_environment(require_endpoint(endpoint, allow_remote))
        result = redrive(dead_letter_queue, destination, max_messages=max_messages)
    except PylonError as exc:
        _err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    _print(result)


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
    _console.print(f"moved {result.count} message(s) from {result.dead_letter_queue}{where}")
    for message_id, reason in result.left.items():
        _console.print(f"[yellow]left {message_id}[/yellow]: {reason}")

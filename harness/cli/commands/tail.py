"""`pylon tail`: what a topic publishes, or what waits in a queue, printed live."""

from __future__ import annotations

from contextlib import closing, suppress
from typing import Annotated

import typer

from harness.cli.shell import (
    AllowRemote,
    EndpointOption,
    connect,
    console,
    run_command,
)
from harness.messaging.targets import resolve_target
from harness.observe.tail import follow, render

PANEL = "Messages"


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(tail)


def tail(
    target: Annotated[
        str,
        typer.Argument(
            help="Topic name/ARN (everything published) or queue name/URL (peek, nothing consumed)."
        ),
    ],
    count: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this long.")] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Print messages live, pretty-printed, with their attributes."""

    def action() -> None:
        connect(endpoint, allow_remote)
        resolved = resolve_target(target)
        console.print(f"[dim]tailing {resolved.kind} {resolved.name}; Ctrl-C to stop[/dim]")
        # closing(): a queue's held messages go back the moment the tail stops.
        with closing(follow(resolved, seconds)) as messages, suppress(KeyboardInterrupt):
            for index, message in enumerate(messages, start=1):
                console.print(render(message))
                if count is not None and index >= count:
                    return

    run_command(action)

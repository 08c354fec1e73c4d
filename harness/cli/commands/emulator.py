"""`pylon emulator start|stop|status|install`: the embedded MiniStack in the background."""

from __future__ import annotations

from typing import Annotated

import typer

from harness.cli.shell import console, progress, run_command
from harness.emulators import background
from harness.emulators.ministack import MINISTACK_VERSION, install

emulator_app = typer.Typer(
    help="The embedded MiniStack emulator, in the background.", no_args_is_help=True
)


PANEL = "Run a pipeline"


def register(app: typer.Typer) -> None:
    app.add_typer(emulator_app, name="emulator", rich_help_panel=PANEL)


@emulator_app.command("start")
def emulator_start(
    port: Annotated[
        int | None, typer.Option(help="Port on 127.0.0.1 (default: a free one).")
    ] = None,
) -> None:
    """Start MiniStack in the background (other commands find it automatically)."""

    def action() -> None:
        with progress(f"starting MiniStack {MINISTACK_VERSION}"):
            state = background.start(port)
        console.print(
            f"MiniStack {state.version} running at [bold]{state.endpoint_url}[/bold] (pid {state.pid})"
        )
        console.print(f"export AWS_ENDPOINT_URL={state.endpoint_url}")

    run_command(action)


@emulator_app.command("stop")
def emulator_stop() -> None:
    """Stop the background emulator."""
    stopped = run_command(background.stop)
    console.print(
        f"stopped MiniStack at {stopped.endpoint_url}"
        if stopped
        else "no background emulator was running"
    )


@emulator_app.command("status")
def emulator_status() -> None:
    """Say whether the background emulator runs and answers; exit 1 when it does not."""
    state = background.running()
    if state is None:
        console.print("not running")
        raise typer.Exit(1)
    health = "healthy" if background.healthy(state) else "[red]not answering[/red]"
    console.print(
        f"running at {state.endpoint_url} (pid {state.pid}, MiniStack {state.version}): {health}"
    )


@emulator_app.command("install")
def emulator_install() -> None:
    """Install the pinned MiniStack into its own environment (done by `make dev`)."""
    with progress(f"installing MiniStack {MINISTACK_VERSION}"):
        path = run_command(install)
    console.print(f"MiniStack {MINISTACK_VERSION} installed in {path}")

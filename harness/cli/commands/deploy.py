"""`pylon deploy` and `pylon config push`: the exported template as a stack, its config in SSM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import boto3
import typer

from harness.cli.shell import (
    AllowRemote,
    EndpointOption,
    connect,
    console,
    progress,
    run_command,
    spec_with_warnings,
)
from harness.cloudformation.deploy import (
    deploy,
    pipeline_from_outputs,
    push_config,
    stack_name_for,
    stack_outputs,
)
from harness.cloudformation.export import Target

PANEL = "Deploying to AWS"

config_app = typer.Typer(help="Components' PYLON_CONFIG in SSM.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("deploy", rich_help_panel=PANEL)(deploy_command)
    app.add_typer(config_app, name="config", rich_help_panel=PANEL)


def deploy_command(
    spec_file: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    target: Annotated[
        Target, typer.Option(help="Lambda functions or ECS Fargate services.")
    ] = Target.LAMBDA,
    stack: Annotated[
        str | None, typer.Option(help="Stack name (default: pylon-<pipeline>).")
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="Template parameter KEY=VALUE (repeatable)."),
    ] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Create or update the stack from the exported template, then push every config."""

    def action() -> None:
        spec = spec_with_warnings(spec_file)
        connect(endpoint, allow_remote)
        values = dict(_pair(p) for p in parameter or [])
        name = stack or stack_name_for(spec)
        with progress(f"deploying stack {name} ({target.value} target)"):
            deployed = deploy(
                spec, target, stack_name=name, parameters=values, allow_remote=allow_remote
            )
        console.print(f"stack [bold]{deployed.name}[/bold] is ready; its outputs:")
        for key, value in sorted(deployed.outputs.items()):
            console.print(f"  {key}: {value}")

    run_command(action)


@config_app.command("push")
def config_push(
    spec_file: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    stack: Annotated[
        str | None, typer.Option(help="Stack name (default: pylon-<pipeline>).")
    ] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Write each component's PYLON_CONFIG as a SecureString, wired to the stack's outputs."""

    def action() -> None:
        spec = spec_with_warnings(spec_file)
        connect(endpoint, allow_remote)
        session = boto3.session.Session()
        outputs = stack_outputs(session, stack or stack_name_for(spec))
        pipeline_from_outputs(spec, outputs, session)  # the stack is this spec's
        for name in push_config(spec, outputs, session):
            console.print(f"wrote SecureString [bold]{name}[/bold]")

    run_command(action)


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"--parameter must be KEY=VALUE, got {text!r}")
    return key, value

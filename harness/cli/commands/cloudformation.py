"""`pylon export cloudformation` and `pylon import cloudformation`: a spec to a template
and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from harness.cli.shell import console, err, run_command, spec_with_warnings
from harness.cloudformation.export import Target, export_template
from harness.cloudformation.importer import import_template
from harness.cloudformation.template_io import dump_template, load_template
from harness.spec import spec_from_dict

PANEL = "Deploying to AWS"

export_app = typer.Typer(help="Write a spec as infrastructure as code.", no_args_is_help=True)
import_app = typer.Typer(help="Read infrastructure as code as a spec.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export", rich_help_panel=PANEL)
    app.add_typer(import_app, name="import", rich_help_panel=PANEL)


@export_app.command("cloudformation")
def export_cloudformation(
    spec_file: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    target: Annotated[
        Target, typer.Option(help="Components as Lambda functions or as ECS Fargate services.")
    ] = Target.LAMBDA,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Template file (default: stdout).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML.")] = False,
) -> None:
    """A deploy-ready CloudFormation template: queues, topics, roles, compute, alarms."""

    def action() -> None:
        text = dump_template(export_template(spec_with_warnings(spec_file), target), as_json)
        if output is None:
            typer.echo(text, nl=False)
            return
        output.write_text(text)
        err.print(f"wrote [bold]{output}[/bold] ({target.value} target)")

    run_command(action)


@import_app.command("cloudformation")
def import_cloudformation(
    template_file: Annotated[Path, typer.Argument(help="CloudFormation or SAM template.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Spec file (default: stdout).")
    ] = None,
) -> None:
    """A pipeline spec from a template; lists every resource it could not map, and why."""

    def action() -> None:
        imported = import_template(load_template(template_file))
        spec_from_dict(imported.spec, str(template_file))  # what `pylon up` would refuse
        text = yaml.safe_dump(imported.spec, sort_keys=False)
        for logical_id, reason in sorted(imported.unmapped.items()):
            err.print(f"[yellow]not mapped:[/yellow] {logical_id}: {reason}")
        if output is None:
            typer.echo(text, nl=False)
            return
        output.write_text(text)
        console.print(
            f"wrote [bold]{output}[/bold]: {len(imported.spec['components'])} component(s), "
            f"{len(imported.unmapped)} resource(s) not mapped"
        )

    run_command(action)

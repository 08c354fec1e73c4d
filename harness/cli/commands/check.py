"""`pylon check`: lint a spec or template for what bites only in AWS."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.shell import run_command
from harness.cloudformation.checks import Finding, Severity, check_spec, check_template, report
from harness.cloudformation.template_io import load_template
from harness.spec import load_spec

PANEL = "Deploying to AWS"


class Format(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("check", rich_help_panel=PANEL)(check)


def check(
    path: Annotated[Path, typer.Argument(help="A pipeline spec, or a CloudFormation template.")],
    output_format: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """Find what works locally but fails or misbehaves in AWS; exit 1 on any error."""
    findings = run_command(lambda: _findings(path))
    typer.echo(report(findings, output_format is Format.json))
    if any(f.severity is Severity.ERROR for f in findings):
        raise typer.Exit(1)


def _findings(path: Path) -> list[Finding]:
    if _is_template(path):
        return check_template(load_template(path))
    return check_spec(load_spec(path))


def _is_template(path: Path) -> bool:
    head = path.read_text()[:4000] if path.is_file() else ""
    return "Resources" in head and (
        "AWSTemplateFormatVersion" in head or "Type: AWS::" in head or '"Type": "AWS::' in head
    )

"""What every verb shares: the consoles, error rendering, a spinner, common options.

Exit codes: 0 success, 1 a Pylon/harness error (printed as one red line, no
traceback), 2 usage (typer's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)
from rich.console import Console
from rich.markup import escape

from harness.emulators.selection import apply_to_environment, require_endpoint
from harness.endpoints import AwsEndpoint
from harness.errors import HarnessError
from harness.spec import PipelineSpec, load_spec
from pylon.errors import PylonError

T = TypeVar("T")

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="AWS-compatible endpoint URL (default: $PYLON_ENDPOINT, or the background emulator).",
    ),
]
AllowRemote = Annotated[
    bool,
    typer.Option(
        "--allow-remote", help="Allow an endpoint that is not on this machine (e.g. real AWS)."
    ),
]
SpecArgument = Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")]


class CliUsageError(HarnessError):
    """Options that do not go together."""


def run_command(action: Callable[[], T]) -> T:
    """Run a command body; Pylon errors, and AWS errors nothing below caught, become a red
    line and exit code 1."""
    try:
        return action()
    except (PylonError, BotoCoreError, ClientError) as exc:
        err.print(f"[red]error:[/red] {escape(aws_error_text(exc))}")  # its text is no markup
        raise typer.Exit(1) from None


def aws_error_text(error: Exception) -> str:
    """One line saying what went wrong and what to do, for Pylon's errors and boto3's."""
    if isinstance(error, EndpointConnectionError):
        return (
            f"cannot reach the AWS endpoint {error.kwargs.get('endpoint_url', '')}: nothing "
            "answers there. Start the emulator (`pylon emulator start`) or give the right "
            "--endpoint / $PYLON_ENDPOINT"
        )
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = str(details.get("Code", "?")), str(details.get("Message", ""))
        if code.isdigit() or message.lstrip().startswith("<"):
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", code)
            return (
                f"the endpoint answered {error.operation_name} with HTTP {status} and a "
                "page that is no AWS response: is it an AWS emulator? Check --endpoint / "
                "$PYLON_ENDPOINT"
            )
        return f"the endpoint refused {error.operation_name}: {code}: {message}"
    return str(error)


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on the console while the block runs (nothing when output is not a tty)."""
    with console.status(message):
        yield


def connect(endpoint_url: str | None, allow_remote: bool) -> AwsEndpoint:
    """The endpoint a command talks to (--endpoint, $PYLON_ENDPOINT, the background
    emulator), refused when not local without --allow-remote; boto3 is pointed at it."""
    endpoint = require_endpoint(endpoint_url, allow_remote)
    apply_to_environment(endpoint)
    return endpoint


def optional_spec(path: Path | None) -> PipelineSpec | None:
    return load_spec(path) if path is not None else None


def spec_with_warnings(path: Path) -> PipelineSpec:
    """Load a spec, printing what AWS accepts but the user probably does not want."""
    spec = load_spec(path)
    for warning in spec.warnings():
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    return spec

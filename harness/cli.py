"""The `pylon` command line. Thin: it parses, calls harness functions, prints with rich.

Exit codes: 0 success, 1 a Pylon/harness error (printed without a traceback), 2 usage.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from harness import console_tables
from harness.cli_dlq import dlq_app
from harness.cli_docker import image_app, layer_app
from harness.emulators import background
from harness.emulators.admin import wait_until_healthy
from harness.emulators.kinds import EMULATOR_ENV_VAR, EmulatorKind
from harness.emulators.ministack import MINISTACK_VERSION, install
from harness.emulators.selection import apply_to_environment, endpoint_or_embedded, require_endpoint
from harness.lineage.recorder import with_lineage_recorder
from harness.local_pipeline import LocalPipeline, Runner
from harness.outgoing_payloads import OutgoingPayloads, payload_location
from harness.provision import describe, provision
from harness.run.local_spec import with_local_defaults
from harness.run.output import PrefixedConsole
from harness.spec import load_spec
from harness.spec_overrides import parse_service_ports, with_config_in_ssm, with_external_services
from harness.summary import PipelineSummary, summarise
from harness.tail import follow
from harness.targets import resolve_target, spec_target_name
from pylon.errors import PylonError
from pylon.models.messages import BaseMessage, ObjectType

app = typer.Typer(
    help="Pylon: run and test AWS data pipelines offline.",
    no_args_is_help=True,
    add_completion=False,
)
emulator_app = typer.Typer(
    help="The embedded MiniStack emulator, in the background.", no_args_is_help=True
)
app.add_typer(emulator_app, name="emulator")
app.add_typer(dlq_app, name="dlq")
app.add_typer(image_app, name="image")
app.add_typer(layer_app, name="layer")
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

T = TypeVar("T")

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


def _run(action: Callable[[], T]) -> T:
    """Run a command body; Pylon errors become a red line and exit code 1."""
    try:
        return action()
    except PylonError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@contextmanager
def _progress(message: str) -> Iterator[None]:
    with console.status(message):
        yield


# ------------------------------------------------------------------ up / provision


class RunOption(StrEnum):
    processes = "processes"
    inprocess = "inprocess"
    containers = "containers"


@app.command()
def up(
    spec_file: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
    run: Annotated[
        RunOption,
        typer.Option(help="Components as processes (like ECS), threads, or containers (Docker)."),
    ] = RunOption.processes,
    emulator: Annotated[
        EmulatorKind,
        typer.Option(
            envvar=EMULATOR_ENV_VAR,
            help="Emulator to start without --endpoint: embedded MiniStack or localstack.",
        ),
    ] = EmulatorKind.EMBEDDED,
    until_idle: Annotated[
        float | None,
        typer.Option(
            help="Stop once nothing happened for this many seconds, then print a summary."
        ),
    ] = None,
    teardown: Annotated[
        bool, typer.Option(help="Remove the provisioned resources when stopping.")
    ] = False,
) -> None:
    """Start the emulator (unless --endpoint), provision SPEC, run every component, stream logs."""
    _run(
        lambda: _up(
            spec_file, endpoint, allow_remote, Runner(run.value), until_idle, teardown, emulator
        )
    )


def _up(
    spec_file: Path,
    endpoint_url: str | None,
    allow_remote: bool,
    run: Runner,
    until_idle: float | None,
    teardown: bool,
    emulator: EmulatorKind = EmulatorKind.EMBEDDED,
) -> None:
    spec = load_spec(spec_file)
    with ExitStack() as running:
        # The spinner covers only the start; the emulator itself lives until the block ends.
        with _progress(f"starting the {emulator.value} emulator"):
            endpoint = running.enter_context(
                endpoint_or_embedded(endpoint_url, allow_remote, emulator)
            )
        apply_to_environment(endpoint)
        pipeline = LocalPipeline(
            spec, endpoint, run, sink=PrefixedConsole(console), allow_remote=allow_remote
        )
        with _progress(f"provisioning {spec.name} at {endpoint.endpoint_url}"):
            pipeline.start()
        _print_resources(pipeline)
        try:
            _wait(pipeline, until_idle)
        except KeyboardInterrupt:
            console.print("[yellow]stopping (Ctrl-C again to force)…[/yellow]")
        finally:
            pipeline.stop()
        _print_summary(summarise(pipeline))
        if teardown:
            pipeline.teardown()


def _wait(pipeline: LocalPipeline, until_idle: float | None) -> None:
    if until_idle is None:
        console.print("[bold]running; Ctrl-C to stop[/bold]")
        while True:
            time.sleep(3600)
    from harness.activity import wait_until_idle

    if not wait_until_idle(pipeline, until_idle):
        err.print("[yellow]the pipeline was still busy when the time limit was reached[/yellow]")


@app.command("provision")
def provision_command(
    spec_file: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
    service: Annotated[
        list[str] | None,
        typer.Option(help="NAME=PORT of a spec service run elsewhere (repeatable)."),
    ] = None,
    config_in_ssm: Annotated[
        bool,
        typer.Option(
            help="Store every component's PYLON_CONFIG in SSM (/pylon/<pipeline>/<component>)."
        ),
    ] = False,
    local_polling: Annotated[
        bool,
        typer.Option(
            help="1 s long polls (as under `pylon up`) unless the spec sets WAIT_TIME_SECONDS."
        ),
    ] = False,
    wait: Annotated[
        float, typer.Option(help="Wait up to this many seconds for the emulator to be healthy.")
    ] = 0.0,
) -> None:
    """Create (or update) every resource SPEC needs; safe to run again."""

    def action() -> None:
        spec = with_lineage_recorder(load_spec(spec_file))
        spec = with_external_services(spec, parse_service_ports(service or []))
        spec = with_config_in_ssm(spec) if config_in_ssm else spec
        spec = with_local_defaults(spec) if local_polling else spec
        target = require_endpoint(endpoint, allow_remote)
        if wait > 0:
            with _progress(f"waiting for {target.endpoint_url} to be healthy"):
                wait_until_healthy(target.endpoint_url, wait)
        apply_to_environment(target)
        with _progress(f"provisioning {spec.name} at {target.endpoint_url}"):
            provisioned = provision(spec, allow_remote=allow_remote)
        _print_rows(f"{spec.name} at {target.endpoint_url}", describe(provisioned))

    _run(action)


# ------------------------------------------------------------------ send / tail


@app.command()
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
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Send one Pylon message to a queue or publish it on a topic (large bodies via S3)."""

    def action() -> None:
        spec = load_spec(spec_file) if spec_file else None
        apply_to_environment(require_endpoint(endpoint, allow_remote))
        resolved = resolve_target(spec_target_name(spec, target))
        message = _message(body, file, object_type, attribute or [])
        location = payload_location(spec.payload_s3_path if spec else None, payload_bucket, "send")
        outcome = resolved.send(message, OutgoingPayloads(location) if location else None)
        console.print(f"sent to {resolved.kind} [bold]{resolved.name}[/bold] {outcome}")

    _run(action)


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
    from pylon.codec import decode_body

    return BaseMessage(
        body=decode_body(kind, text, None, "--body"), objectType=kind, attributes=pairs
    )


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise typer.BadParameter(f"--attribute must be NAME=VALUE, got {text!r}")
    return name, value


@app.command()
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
        apply_to_environment(require_endpoint(endpoint, allow_remote))
        resolved = resolve_target(target)
        console.print(f"[dim]tailing {resolved.kind} {resolved.name}; Ctrl-C to stop[/dim]")
        # closing(): a queue's held messages go back the moment the tail stops.
        with closing(follow(resolved, seconds)) as messages, suppress(KeyboardInterrupt):
            for index, message in enumerate(messages, start=1):
                _print_message(message)
                if count is not None and index >= count:
                    return

    _run(action)


# ------------------------------------------------------------------ emulator


@emulator_app.command("start")
def emulator_start(
    port: Annotated[
        int | None, typer.Option(help="Port on 127.0.0.1 (default: a free one).")
    ] = None,
) -> None:
    """Start MiniStack in the background (other commands find it automatically)."""

    def action() -> None:
        with _progress(f"starting MiniStack {MINISTACK_VERSION}"):
            state = background.start(port)
        console.print(
            f"MiniStack {state.version} running at [bold]{state.endpoint_url}[/bold] (pid {state.pid})"
        )
        console.print(f"export AWS_ENDPOINT_URL={state.endpoint_url}")

    _run(action)


@emulator_app.command("stop")
def emulator_stop() -> None:
    """Stop the background emulator."""
    stopped = _run(background.stop)
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
    with _progress(f"installing MiniStack {MINISTACK_VERSION}"):
        path = _run(install)
    console.print(f"MiniStack {MINISTACK_VERSION} installed in {path}")


# ------------------------------------------------------------------ printing


def _print_rows(title: str, rows: list[tuple[str, str, str]]) -> None:
    console.print(console_tables.resources(title, rows, console.width))


def _print_resources(pipeline: LocalPipeline) -> None:
    _print_rows(
        f"{pipeline.spec.name} at {pipeline.endpoint.endpoint_url}", describe(pipeline.resources)
    )


def _print_summary(summary: PipelineSummary) -> None:
    console_tables.print_all(
        console,
        [
            console_tables.published(summary.published),
            console_tables.queues(summary.queues),
            *(console_tables.bucket(name, objects) for name, objects in summary.objects.items()),
        ],
    )


def _print_message(message: Any) -> None:
    from harness.tail import render

    console.print(render(message))


# Commands defined in their own modules register themselves on `app` when imported.
import harness.cli_capture  # noqa: E402
import harness.cli_lineage  # noqa: E402, F401


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

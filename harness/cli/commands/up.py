"""`pylon up`: emulator, provisioning, every component running, logs streamed, a summary."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from harness.cli import render
from harness.cli.shell import (
    AllowRemote,
    CliUsageError,
    EndpointOption,
    SpecArgument,
    console,
    err,
    progress,
    run_command,
    spec_with_warnings,
)
from harness.cloudformation.deploy import stack_provisioner
from harness.cloudformation.export import Target
from harness.emulators.kinds import EMULATOR_ENV_VAR, EmulatorKind
from harness.emulators.selection import apply_to_environment, endpoint_or_embedded
from harness.inspector.extra import DEFAULT_PORT, server_module
from harness.inspector.log_events import LogTap, RecordTap, with_json_logs
from harness.inspector.store import MessageStore
from harness.pipeline.activity import DrainedRecorders, wait_until_idle
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.pipeline.summary import summarise
from harness.provision import ProvisionedPipeline, describe, provision
from harness.watch.health import QuietRetries
from harness.watch.reloader import Reloader

# Messages each topic's recorder holds under `pylon up` (counts cover all of them).
RECORDER_KEEP = 1000


class RunOption(StrEnum):
    processes = "processes"
    inprocess = "inprocess"
    containers = "containers"


PANEL = "Run a pipeline"


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(up)


def up(
    spec_file: SpecArgument,
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
    ui: Annotated[
        bool,
        typer.Option(
            "--ui",
            help="Open the web inspector beside the pipeline (components then log JSON, "
            "shown as text, so it can tie timings to messages).",
        ),
    ] = False,
    ui_port: Annotated[
        int, typer.Option(help="Port of the inspector (0: any free one).")
    ] = DEFAULT_PORT,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Hot reload: a saved component restarts alone, a saved spec is applied to "
            "the running emulator (the diff is printed).",
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(help="With --watch: remove the resources of what the spec no longer names."),
    ] = False,
    deploy: Annotated[
        Target | None,
        typer.Option(
            help="Provision by deploying the exported CloudFormation template (this target) "
            "as a stack; components then run on the stack's resources (as Lambda functions "
            "in the emulator for the lambda target)."
        ),
    ] = None,
) -> None:
    """Start the emulator (unless --endpoint), provision SPEC, run every component, stream logs."""
    options = _Options(
        spec_file, endpoint, allow_remote,
        Runner.NONE if deploy is Target.LAMBDA else Runner(run.value),
        until_idle, teardown, emulator, deploy, ui_port if ui else None, watch, prune,
    )  # fmt: skip
    run_command(lambda: _up(options))


@dataclass(frozen=True)
class _Options:
    spec_file: Path
    endpoint_url: str | None
    allow_remote: bool
    run: Runner
    until_idle: float | None
    teardown: bool
    emulator: EmulatorKind
    deploy: Target | None
    ui_port: int | None
    watch: bool
    prune: bool

    def check(self) -> None:
        if self.prune and not self.watch:
            raise CliUsageError("--prune applies to --watch only")
        if self.watch and self.until_idle is not None:
            raise CliUsageError("--watch runs until Ctrl-C; leave out --until-idle")
        if self.watch and self.deploy is not None:
            raise CliUsageError(
                "--watch reloads what `pylon up` provisions itself; with --deploy the stack "
                "owns the resources: change the template and deploy again instead"
            )


def _up(options: _Options) -> None:
    options.check()
    spec = spec_with_warnings(options.spec_file)
    inspector = (
        _InspectorBeside(options.spec_file, options.ui_port)
        if options.ui_port is not None
        else None
    )
    if inspector is not None:
        spec = with_json_logs(spec)
    output = QuietRetries(inspector.sink if inspector else render.PrefixedConsole(console))
    with ExitStack() as running:
        # The spinner covers only the start; the emulator itself lives until the block ends.
        with progress(f"starting the {options.emulator.value} emulator"):
            endpoint = running.enter_context(
                endpoint_or_embedded(options.endpoint_url, options.allow_remote, options.emulator)
            )
        apply_to_environment(endpoint)
        pipeline = LocalPipeline(
            spec,
            endpoint,
            options.run,
            sink=output,
            allow_remote=options.allow_remote,
            provisioner=stack_provisioner(options.deploy) if options.deploy else provision,
            before_components=inspector.opener(running, endpoint.endpoint_url)
            if inspector
            else None,
            # The summary needs counts only: the last messages suffice in memory.
            recorder_keep=RECORDER_KEEP,
        )
        if inspector is not None and options.run is Runner.IN_PROCESS:
            running.enter_context(inspector.in_process_logs())
        with progress(f"provisioning {spec.name} at {endpoint.endpoint_url}"):
            pipeline.start()
        title = f"{pipeline.spec.name} at {pipeline.endpoint.endpoint_url}"
        console.print(render.resources(title, describe(pipeline.resources), console.width))
        render.print_all(console, render.routing(endpoint))
        if inspector is not None and inspector.server is not None:
            console.print(
                f"[bold]inspector:[/bold] {inspector.server.url}  "
                f"(recording into {inspector.capture})"
            )
        # Drained all along, so the taps do not hold every message in the emulator.
        running.enter_context(DrainedRecorders(pipeline))
        try:
            if options.watch:
                _watch(pipeline, options, output)
            else:
                _wait(pipeline, options.until_idle)
        except KeyboardInterrupt:
            console.print("[yellow]stopping (Ctrl-C again to force)…[/yellow]")
        finally:
            pipeline.stop()
        render.print_all(console, render.summary(summarise(pipeline)))
        if options.teardown:
            pipeline.teardown()


def _watch(pipeline: LocalPipeline, options: _Options, output: QuietRetries) -> None:
    if pipeline.runners is None:
        raise CliUsageError("--watch needs components to run: leave out --run none")
    console.print("[bold]watching for changes; Ctrl-C to stop[/bold]")
    reloader = Reloader(
        pipeline, options.spec_file, output, lambda text: console.print(Text(text, style="cyan")),
        prune=options.prune,
    )  # fmt: skip
    reloader.run(threading.Event())


class _InspectorBeside:
    """`--ui`: the inspector's store fed by the components' log lines, opened on the
    provisioned pipeline before any component starts."""

    def __init__(self, spec_file: Path, port: int) -> None:
        self.spec_file = spec_file
        self.port = port
        self.store = MessageStore()
        self.sink = LogTap(self.store, render.PrefixedConsole(console))
        self.web = server_module()  # the ui extra, checked before anything starts
        self.server: Any = None
        self.capture: Path | None = None

    def opener(
        self, running: ExitStack, endpoint_url: str
    ) -> Callable[[ProvisionedPipeline], None]:
        def open_inspector(pipeline: ProvisionedPipeline) -> None:
            self.capture = self.web.default_capture(pipeline.spec.name)
            inspector = self.web.new_inspector(
                pipeline, endpoint_url, str(self.spec_file), self.capture, store=self.store
            )
            server = self.web.InspectorServer(inspector, self.web.Binding(self.port))
            self.server = running.enter_context(server)

        return open_inspector

    @contextmanager
    def in_process_logs(self) -> Iterator[None]:
        """In-process components log through this process: tap its root logger."""
        tap = RecordTap(self.store)
        logging.getLogger().addHandler(tap)
        try:
            yield
        finally:
            logging.getLogger().removeHandler(tap)


def _wait(pipeline: LocalPipeline, until_idle: float | None) -> None:
    if until_idle is None:
        console.print("[bold]running; Ctrl-C to stop[/bold]")
        while True:
            time.sleep(3600)
    if not wait_until_idle(pipeline, until_idle):
        err.print("[yellow]the pipeline was still busy when the time limit was reached[/yellow]")

"""`pylon ui`: the web inspector of a pipeline already running at an endpoint."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer

from harness.cli.shell import EndpointOption, connect, console, err, run_command, spec_with_warnings
from harness.inspector.extra import DEFAULT_PORT, server_module
from harness.lineage.recorder import with_lineage_recorder
from harness.provision import find_provisioned

PANEL = "Run a pipeline"

PortOption = Annotated[int, typer.Option("--port", help="Port of the inspector (0: any free one).")]
ServeRemote = Annotated[
    bool,
    typer.Option(
        "--allow-remote",
        help="Listen on every interface and answer any Host name: other machines can then "
        "read message bodies and act on the pipeline. Local only (127.0.0.1) without it.",
    ),
]
CaptureOption = Annotated[
    Path | None,
    typer.Option(
        "--capture",
        help="Where to record everything published while the inspector runs (default "
        ".pylon/ui/SPEC-NAME.capture.jsonl), for `pylon replay FILE --from-step ID`.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("ui", rich_help_panel=PANEL)(ui_command)


def ui_command(
    spec_file: Annotated[Path, typer.Argument(help="The running pipeline's spec (YAML).")] = Path(
        "pipeline.yaml"
    ),
    endpoint: EndpointOption = None,
    port: PortOption = DEFAULT_PORT,
    allow_remote: ServeRemote = False,
    capture: CaptureOption = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the inspector in the default browser.")
    ] = False,
) -> None:
    """Inspect a running pipeline in the browser: live counts, queues, journeys, dead letters.

    Nothing is provisioned or changed by looking: SPEC must be running already (`pylon up
    SPEC` in another terminal, or `pylon up SPEC --ui` to have both at once)."""

    def action() -> None:
        web = server_module()
        spec = with_lineage_recorder(spec_with_warnings(spec_file))
        aws = connect(endpoint, allow_remote=False)
        pipeline = find_provisioned(spec)
        recording = capture or web.default_capture(spec.name)
        inspector = web.new_inspector(pipeline, aws.endpoint_url, str(spec_file), recording)
        server = web.InspectorServer(inspector, web.Binding(port, allow_remote))
        with server:
            announce(server, recording, allow_remote)
            if open_browser:
                webbrowser.open(server.url)
            try:
                server.wait()
            except KeyboardInterrupt:
                console.print("[yellow]stopping the inspector…[/yellow]")

    run_command(action)


def announce(server: Any, recording: Path, remote: bool) -> None:
    """Where the inspector is, and where its capture goes."""
    console.print(f"[bold]inspector:[/bold] {server.url}  (Ctrl-C to stop)")
    console.print(f"recording what is published into {recording}")
    if remote:
        err.print(
            "[yellow]warning:[/yellow] --allow-remote: the inspector listens on every "
            "interface and anyone who can reach this port can read messages and act"
        )

"""`pylon provision`: create (or update) every resource a spec needs, for any runner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli import render
from harness.cli.shell import (
    AllowRemote,
    EndpointOption,
    SpecArgument,
    console,
    progress,
    run_command,
    spec_with_warnings,
)
from harness.emulators.admin import wait_until_healthy
from harness.emulators.init_hook import record_provisioning, write_hook
from harness.emulators.selection import apply_to_environment, require_endpoint
from harness.lineage.recorder import with_lineage_recorder
from harness.provision import describe, provision
from harness.spec import PipelineSpec
from harness.spec.local_defaults import with_local_defaults
from harness.spec.overrides import (
    check_service_ports,
    parse_service_ports,
    with_config_in_ssm,
    with_external_services,
)

PANEL = "Run a pipeline"


def register(app: typer.Typer) -> None:
    app.command("provision", rich_help_panel=PANEL)(provision_command)


def provision_command(
    spec_file: SpecArgument,
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
    init_hook: Annotated[
        Path | None,
        typer.Option(
            help="Write a LocalStack init hook (*.py for /etc/localstack/init/ready.d) that "
            "provisions SPEC when LocalStack boots, instead of provisioning an endpoint."
        ),
    ] = None,
) -> None:
    """Create (or update) every resource SPEC needs; safe to run again."""

    def action() -> None:
        ports = parse_service_ports(service or [])
        spec = with_lineage_recorder(spec_with_warnings(spec_file))
        spec = with_config_in_ssm(spec) if config_in_ssm else spec
        spec = with_local_defaults(spec) if local_polling else spec
        if init_hook is not None:
            _write_init_hook(spec, init_hook, ports)
            return
        spec = with_external_services(spec, ports)
        target = require_endpoint(endpoint, allow_remote)
        if wait > 0:
            with progress(f"waiting for {target.endpoint_url} to be healthy"):
                wait_until_healthy(target.endpoint_url, wait)
        apply_to_environment(target)
        with progress(f"provisioning {spec.name} at {target.endpoint_url}"):
            provisioned = provision(spec, allow_remote=allow_remote)
        title = f"{spec.name} at {target.endpoint_url}"
        console.print(render.resources(title, describe(provisioned), console.width))

    run_command(action)


def _write_init_hook(spec: PipelineSpec, path: Path, ports: dict[str, int]) -> None:
    """The spec's `{services.NAME.port}` stay placeholders: the hook fills them when it runs."""
    check_service_ports(spec, ports)
    with progress(f"recording how {spec.name} is provisioned (on a throwaway MiniStack)"):
        calls = record_provisioning(spec)
    write_hook(spec, path, ports, calls)
    console.print(
        f"wrote [bold]{path}[/bold]: provisions {spec.name} ({len(calls)} AWS calls) when "
        "LocalStack boots; mount its folder at /etc/localstack/init/ready.d"
    )

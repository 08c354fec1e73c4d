"""`pylon lineage`, `pylon openlineage` and `pylon graph`: lineage and topology you can see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.shell import (
    AllowRemote,
    EndpointOption,
    connect,
    console,
    err,
    run_command,
)
from harness.errors import HarnessError
from harness.lineage.store import LineageStore
from harness.lineage.view import chain_document, lineage_tree
from harness.spec import load_spec

TableOption = Annotated[
    str | None, typer.Option("--table", help="The lineage table (DynamoDB) to read.")
]
SpecOption = Annotated[
    Path | None,
    typer.Option(
        "--spec", help="Pipeline spec whose `lineage: {table}` to read (instead of --table)."
    ),
]


PANEL = "Lineage"


def register(app: typer.Typer) -> None:
    app.command("lineage", rich_help_panel=PANEL)(lineage_command)
    app.command("openlineage", rich_help_panel=PANEL)(openlineage_command)
    app.command("graph", rich_help_panel=PANEL)(graph_command)


class LineageOptionError(HarnessError):
    """Which lineage table to read is not clear from the options."""


def _table(table: str | None, spec_file: Path | None) -> tuple[str, str]:
    """(table name, OpenLineage namespace) from --table or --spec."""
    if (table is None) == (spec_file is None):
        raise LineageOptionError("give exactly one of --table NAME or --spec SPEC")
    if table is not None:
        return table, table
    spec = load_spec(spec_file)  # type: ignore[arg-type]
    if not spec.lineage_table:
        raise LineageOptionError(
            f"{spec_file}: the spec has no lineage store; add `lineage: {{table: NAME}}` to it"
        )
    return spec.lineage_table, spec.name


def lineage_command(
    ingestion_id: Annotated[str, typer.Argument(help="A record's ingestionId.")],
    table: TableOption = None,
    spec_file: SpecOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a tree.")] = False,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Print the chain of ingestion steps from ID back to the root source."""

    def action() -> None:
        name, _ = _table(table, spec_file)
        connect(endpoint, allow_remote)
        chain = LineageStore(name).chain(ingestion_id)
        if as_json:
            typer.echo(json.dumps(chain_document(chain), indent=2, ensure_ascii=False))
        else:
            console.print(lineage_tree(chain))

    run_command(action)


def openlineage_command(
    table: TableOption = None,
    spec_file: SpecOption = None,
    ingestion_id: Annotated[
        str | None,
        typer.Option("--id", help="Only the chain of this ingestionId (default: every step)."),
    ] = None,
    file: Annotated[Path | None, typer.Option(help="Write the events here, one per line.")] = None,
    url: Annotated[
        str | None, typer.Option(help="POST the events to this OpenLineage server.")
    ] = None,
    api_path: Annotated[
        str, typer.Option(help="The server's lineage API path.")
    ] = "api/v1/lineage",
    namespace: Annotated[
        str | None,
        typer.Option(help="Job namespace (default: the pipeline's name, or the table's)."),
    ] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Export ingestion steps as OpenLineage run events (job = component, run = step)."""

    def action() -> None:
        if (file is None) == (url is None):
            raise LineageOptionError("give exactly one of --file PATH or --url URL")
        name, default_namespace = _table(table, spec_file)
        connect(endpoint, allow_remote)
        count = _export(
            LineageStore(name), ingestion_id, namespace or default_namespace, file, url, api_path
        )
        console.print(f"exported {count} OpenLineage run event(s) to {file or url}")

    run_command(action)


def _export(
    store: LineageStore,
    ingestion_id: str | None,
    namespace: str,
    file: Path | None,
    url: str | None,
    api_path: str,
) -> int:
    try:
        from harness.lineage import openlineage
    except ImportError as exc:
        raise LineageOptionError(
            f"the OpenLineage export needs the lineage extra ({exc.name} is missing): "
            "pip install 'pylon-pipelines[lineage]'"
        ) from None
    steps = store.chain(ingestion_id).steps if ingestion_id else tuple(store.steps())
    events = openlineage.run_events(steps, namespace)
    transport = (
        openlineage.file_transport(file) if file else openlineage.http_transport(str(url), api_path)
    )
    return openlineage.export(events, transport)


def graph_command(
    spec_file: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    image: Annotated[
        Path | None, typer.Option(help="Image to write, .png or .svg (default: NAME.png here).")
    ] = None,
) -> None:
    """Print the pipeline's topology as Mermaid and draw it as an image."""

    def action() -> None:
        from harness.lineage.graph import check_image_path, draw, mermaid

        spec = load_spec(spec_file)
        path = image or Path(f"{spec.name}.png")
        check_image_path(path)
        typer.echo(mermaid(spec), nl=False)
        written = draw(spec, path)
        err.print(f"wrote {written}")

    run_command(action)

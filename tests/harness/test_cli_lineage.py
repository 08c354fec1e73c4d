"""`pylon lineage`, `pylon openlineage` and `pylon graph`, through the CLI against the emulator."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import parent_run
from PIL import Image
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from harness.lineage.openlineage import EXTERNAL_JOB, run_id
from harness.lineage.store import LineageStore
from pylon.lineage import ingestion_id_for
from pylon.models.ingestion_step import IngestionStep

EXAMPLES = Path(__file__).parents[2] / "examples"
LINEAGE_SPEC = EXAMPLES / "readme" / "lineage.yaml"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ROOT = ingestion_id_for("greeter-source", None)  # a uuid4, as a source run gets
HELLO = ingestion_id_for("hello", "message-1")  # a uuid5, as a pipeline step gets
ECHO = ingestion_id_for("echo", "message-2")


def make_step(
    ingestion_id: str, name: str, version: str, parent: str | None, minute: int
) -> IngestionStep:
    made = IngestionStep.create(ingestion_id, name, version, parent, T0 + timedelta(minutes=minute))
    made.metadata = {"task": f"{name} task", "rows": minute}
    return made


@pytest.fixture
def cli(aws_env: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PYLON_ENDPOINT", aws_env.endpoint_url)
    return CliRunner()


@pytest.fixture
def recorded(aws_env: AwsEndpoint) -> LineageStore:
    """The spec's lineage table holding root source -> hello -> echo, plus a hand-set parent."""
    boto3.client("dynamodb").create_table(
        TableName="greeter-lineage",
        KeySchema=[{"AttributeName": "ingestionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "ingestionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = LineageStore("greeter-lineage")
    store.record(make_step(ROOT, "greeter-source", "1.4.0", None, 0))
    store.record(make_step(HELLO, "hello", "1.0.0", ROOT, 1))
    store.record(make_step(ECHO, "echo", "2.1.0", HELLO, 2))
    store.record(make_step("manual-7", "hello", "1.0.0", "root-1", 3))
    return store


# ---------------------------------------------------------------- pylon lineage


def test_lineage_prints_the_chain_as_a_tree(cli: CliRunner, recorded: LineageStore) -> None:
    result = cli.invoke(app, ["lineage", ECHO, "--spec", str(LINEAGE_SPEC)], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"lineage of {ECHO} (3 steps, root source first)" in lines[0]
    names = [n for n in ("greeter-source 1.4.0", "hello 1.0.0", "echo 2.1.0") if n in result.output]
    assert names == ["greeter-source 1.4.0", "hello 1.0.0", "echo 2.1.0"]
    order = [next(i for i, line in enumerate(lines) if n in line) for n in names]
    assert order == sorted(order)
    assert "2024-05-01T10:02:00.000Z" in result.output
    assert "task: echo task" in result.output


def test_lineage_json_lists_steps_root_first(cli: CliRunner, recorded: LineageStore) -> None:
    result = cli.invoke(app, ["lineage", ECHO, "--table", "greeter-lineage", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ingestionId"] == ECHO and document["root"] == ROOT
    assert [s["artifactName"] for s in document["steps"]] == ["greeter-source", "hello", "echo"]
    assert document["steps"][2]["metadata"] == {"task": "echo task", "rows": 2}


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["lineage", "nope", "--table", "greeter-lineage"], "ingestion step nope not found"),
        (["lineage", "x"], "give exactly one of --table NAME or --spec SPEC"),
        (
            ["lineage", "x", "--spec", str(EXAMPLES / "readme" / "hello.yaml")],
            "the spec has no lineage store",
        ),
        (["lineage", "x", "--table", "missing"], "lineage table 'missing'"),
        (
            ["openlineage", "--table", "greeter-lineage"],
            "give exactly one of --file PATH or --url URL",
        ),
        (["openlineage", "--table", "greeter-lineage", "--url", "not a url"], "is not usable"),
    ],
)
def test_lineage_errors_are_one_red_line(
    cli: CliRunner, recorded: LineageStore, arguments: list[str], problem: str
) -> None:
    result = cli.invoke(app, arguments, env={"COLUMNS": "400"})

    assert result.exit_code == 1
    assert result.output.startswith("error: ") and problem in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- pylon openlineage


def rebuilt(document: dict[str, Any]) -> RunEvent:
    """Construct the event again through the client's models: its validators run again."""
    parent = document["run"]["facets"].get("parent")
    facets = {}
    if parent:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent["run"]["runId"]),
            job=parent_run.Job(namespace=parent["job"]["namespace"], name=parent["job"]["name"]),
        )
    return RunEvent(
        eventType=RunState(document["eventType"]),
        eventTime=document["eventTime"],
        run=Run(runId=document["run"]["runId"], facets=facets),
        job=Job(namespace=document["job"]["namespace"], name=document["job"]["name"]),
        producer=document["producer"],
    )


def test_openlineage_file_has_one_valid_event_per_step(
    cli: CliRunner, recorded: LineageStore, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"

    result = cli.invoke(app, ["openlineage", "--spec", str(LINEAGE_SPEC), "--file", str(out)])

    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    by_job = {
        (e["job"]["name"], e["run"]["facets"]["pylon_ingestionStep"]["ingestionId"]): e
        for e in events
    }
    assert len(events) == 4 and "exported 4 OpenLineage run event(s)" in result.output
    echo = by_job[("echo", ECHO)]
    assert echo["job"]["namespace"] == "greeter" and echo["eventType"] == "COMPLETE"
    assert echo["run"]["runId"] == ECHO and echo["eventTime"] == "2024-05-01T10:02:00.000Z"
    parent = echo["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == HELLO and parent["job"]["name"] == "hello"
    assert (
        parent["root"]["run"]["runId"] == ROOT and parent["root"]["job"]["name"] == "greeter-source"
    )
    assert echo["run"]["facets"]["pylon_ingestionStep"]["artifactVersion"] == "2.1.0"
    assert "parent" not in by_job[("greeter-source", ROOT)]["run"]["facets"]
    manual = by_job[("hello", "manual-7")]
    assert manual["run"]["runId"] == run_id("manual-7") != "manual-7"
    assert manual["run"]["facets"]["parent"]["job"]["name"] == EXTERNAL_JOB
    for event in events:
        rebuilt(event)


def test_openlineage_of_one_chain_only(
    cli: CliRunner, recorded: LineageStore, tmp_path: Path
) -> None:
    out = tmp_path / "chain.jsonl"

    result = cli.invoke(
        app,
        [
            "openlineage",
            "--table",
            "greeter-lineage",
            "--id",
            HELLO,
            "--file",
            str(out),
            "--namespace",
            "ns",
        ],
    )

    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["job"]["name"] for e in events) == ["greeter-source", "hello"]
    assert {e["job"]["namespace"] for e in events} == {"ns"}


class _LineageServer(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture
def lineage_server() -> Iterator[tuple[str, type[_LineageServer]]]:
    handler = type("Handler", (_LineageServer,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_openlineage_posts_every_event(
    cli: CliRunner, recorded: LineageStore, lineage_server: tuple[str, type[_LineageServer]]
) -> None:
    url, handler = lineage_server

    result = cli.invoke(app, ["openlineage", "--table", "greeter-lineage", "--url", url])

    assert result.exit_code == 0, result.output
    assert [path for path, _ in handler.received] == ["/api/v1/lineage"] * 4
    assert {event["run"]["runId"] for _, event in handler.received} >= {ROOT, HELLO, ECHO}


def test_openlineage_server_errors_fail_clearly(
    cli: CliRunner, recorded: LineageStore, lineage_server: tuple[str, type[_LineageServer]]
) -> None:
    url, handler = lineage_server
    handler.status = 400

    result = cli.invoke(
        app, ["openlineage", "--table", "greeter-lineage", "--url", url], env={"COLUMNS": "400"}
    )

    assert result.exit_code == 1
    assert "OpenLineage event 1 of 4" in result.output and "was not delivered" in result.output
    assert "400" in result.output


# ---------------------------------------------------------------- pylon graph


def test_graph_names_every_resource_and_writes_a_png(tmp_path: Path) -> None:
    image = tmp_path / "docs.png"

    result = CliRunner().invoke(
        app, ["graph", str(EXAMPLES / "docs_pipeline" / "pipeline.yaml"), "--image", str(image)]
    )

    assert result.exit_code == 0, result.output
    mermaid = result.stdout
    assert mermaid.startswith("flowchart LR")
    for name in (
        "fetcher", "parser", "lake-writer", "pylon-lineage",  # components
        "parser-in", "lake-writer-in", "docs-pylon-lineage-in", "parser-in-dlq",  # queues
        "documents", "readings", "docs-lineage",  # topics, the lineage table
        '"objectType: urlResource"', '"objectType: dataAsset"', '"objectType: ingestionStep"',  # filters
    ):  # fmt: skip
        assert name in mermaid, name
    assert 't_documents -->|"objectType: urlResource"| q_parser_in' in mermaid
    with Image.open(image) as picture:
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 600


def test_graph_writes_svg_too(tmp_path: Path) -> None:
    image = tmp_path / "hello.svg"

    result = CliRunner().invoke(
        app, ["graph", str(EXAMPLES / "readme" / "hello.yaml"), "--image", str(image)]
    )

    assert result.exit_code == 0, result.output
    root = ElementTree.parse(image).getroot()
    assert root.tag.endswith("svg")
    assert "pylon-lineage" not in result.stdout  # no lineage asked, no recorder drawn


def test_graph_refuses_other_image_types(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["graph", str(EXAMPLES / "readme" / "hello.yaml"), "--image", str(tmp_path / "x.jpg")],
        env={"COLUMNS": "400"},
    )

    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "the image must be .png or .svg, not '.jpg'" in result.output

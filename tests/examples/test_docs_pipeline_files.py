"""The example's spec and data server entry point, as `pylon up` will use them."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from harness.spec import load_spec
from pylon.config import ComponentKind

EXAMPLE = Path(__file__).parents[2] / "examples" / "docs_pipeline"


def test_pipeline_spec_loads_and_chains_the_three_stages() -> None:
    spec = load_spec(EXAMPLE / "pipeline.yaml")

    fetcher, parser, writer = (spec.components[n] for n in ("fetcher", "parser", "lake-writer"))
    assert spec.name == "docs"
    assert [c.kind for c in (fetcher, parser, writer)] == [
        ComponentKind.SOURCE,
        ComponentKind.PIPELINE,
        ComponentKind.SINK,
    ]
    assert parser.subscriptions[0].topic == fetcher.output_topic == "documents"
    assert writer.subscriptions[0].topic == parser.output_topic == "readings"
    assert fetcher.config["SOURCE_URL"] == (
        "http://127.0.0.1:{services.docs-server.port}/index.json"
    )
    assert "docs-server" in spec.services
    assert spec.buckets == ("docs-lake", "docs-payloads")
    assert [c.env["IMAGE_NAME"] for c in (fetcher, parser, writer)] == [
        "docs-fetcher",
        "docs-parser",
        "docs-lake-writer",
    ]


def test_data_server_prints_its_url_first_and_serves_the_index() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "examples.docs_pipeline.data_server", "--port", "0"],
        cwd=EXAMPLE.parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline().strip()
        assert first_line.startswith("serving http://127.0.0.1:")
        url = first_line.removeprefix("serving ")
        with urllib.request.urlopen(f"{url}index.json", timeout=5) as response:
            index = json.load(response)
        assert len(index["documents"]) == 3
    finally:
        server.terminate()
        server.wait(timeout=10)

"""An inspector beside a running pipeline, for the HTTP and the browser tests.

`inspect_pipeline(spec)` starts the pipeline (pytest plugin's `pylon_pipeline`, components
as threads logging JSON), with the inspector opened on it before any component starts,
on a free port of 127.0.0.1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3
import yaml

from harness.endpoints import AwsEndpoint
from harness.inspector.log_events import RecordTap, with_json_logs
from harness.inspector.server import Binding, InspectorServer, new_inspector
from harness.inspector.store import MessageStore
from harness.pipeline.local_pipeline import LocalPipeline
from harness.provision import ProvisionedPipeline
from harness.spec import PipelineSpec, load_spec
from tests.inspector.components import HEALTH

HERE = Path(__file__).parent
DOCS_SPEC = HERE.parents[1] / "examples" / "docs_pipeline" / "pipeline.yaml"

SHOUT_SPEC: dict[str, Any] = {
    "name": "shouts",
    "topics": ["words"],
    "buckets": ["shouts-payloads"],
    "payloads": {"s3_path": "s3://shouts-payloads/offload/"},
    "components": {
        "shout": {
            "type": "pipeline",
            "entrypoint": "tests.inspector.components:shout",
            "subscribe": [{"topic": "words", "filter": {"objectType": ["rawContent"]}}],
            "output_topic": "shouted",
            "max_receive_count": 1,
            "visibility_timeout": 2,  # a failed message is dead-lettered within seconds
            "env": {"IMAGE_NAME": "shouter", "MAJOR": "2", "MINOR": "1", "PATCH": "0"},
        },
        "keep": {
            "type": "sink",
            "entrypoint": "tests.inspector.components:keep",
            "subscribe": [{"topic": "shouted"}],
        },
    },
}


@dataclass
class Inspected:
    pipeline: LocalPipeline
    server: InspectorServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def provisioned(self) -> ProvisionedPipeline:
        assert self.pipeline.provisioned is not None
        return self.pipeline.provisioned

    def get(self, path: str, **headers: str) -> urllib3.BaseHTTPResponse:
        return urllib3.request("GET", self.url + path, headers=headers, redirect=False)

    def post(self, path: str, fields: dict[str, str], **headers: str) -> urllib3.BaseHTTPResponse:
        return urllib3.request(
            "POST", self.url + path, body=urlencode(fields), redirect=False,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )  # fmt: skip

    @property
    def csrf(self) -> str:
        return self.server.inspector.csrf


InspectPipeline = Callable[..., Inspected]


@pytest.fixture
def inspect_pipeline(
    pylon_pipeline: Any, aws_env: AwsEndpoint, tmp_path: Path
) -> Iterator[InspectPipeline]:
    servers: list[InspectorServer] = []
    store = MessageStore()
    tap = RecordTap(store)
    logging.getLogger().addHandler(tap)

    def start(spec: Path | dict[str, Any], **options: Any) -> Inspected:
        if isinstance(spec, dict):  # a file, so that journeys can be exported as tests
            path = tmp_path / f"{spec['name']}.yaml"
            path.write_text(yaml.safe_dump(spec))
            spec = path
        loaded: PipelineSpec = load_spec(spec)

        def open_inspector(provisioned: ProvisionedPipeline) -> None:
            capture = tmp_path / f"{provisioned.spec.name}.capture.jsonl"
            inspector = new_inspector(
                provisioned, aws_env.endpoint_url, str(spec), capture, store=store
            )
            servers.append(InspectorServer(inspector, Binding(port=0)).start())

        pipeline = pylon_pipeline(
            with_json_logs(loaded), before_components=open_inspector, **options
        )
        return Inspected(pipeline, servers[-1])

    yield start
    logging.getLogger().removeHandler(tap)
    for server in servers:
        server.stop()
    HEALTH.healed = False

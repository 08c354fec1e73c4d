"""The docs example pipeline end to end, through the pytest fixtures a user would use.

Fetcher (source, HTTP) -> parser (pipeline) -> lake-writer (sink), provisioned from
`examples/docs_pipeline/pipeline.yaml`: on the embedded emulator with components as
threads and as real processes, and, where Docker runs, on a LocalStack-compatible
container with components as containers of the Pylon base image.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from examples.docs_pipeline.lake_writer import read_lake
from harness.pipeline.local_pipeline import LocalPipeline
from harness.testing.backends import Backend
from harness.testing.waiting import wait_until
from pylon import BaseMessage, DataAsset, ObjectType, UrlResource
from pylon.s3_pointer import S3Location

SPEC = Path(__file__).parents[2] / "examples" / "docs_pipeline" / "pipeline.yaml"
# 36 rows in the three sample documents; 8 (station, observed_at) pairs appear twice.
EXPECTED_ROWS = {"observed_date=2024-05-01": 16, "observed_date=2024-05-02": 12}


def _lake_root(pipeline: LocalPipeline) -> S3Location:
    return S3Location.parse(str(pipeline.spec.components["lake-writer"].config["LAKE_S3_PATH"]))


def _rows_per_partition(files: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {key.split("/")[3]: len(records) for key, records in files.items()}


def _complete_lake(pipeline: LocalPipeline) -> dict[str, list[dict[str, Any]]] | None:
    files = read_lake(_lake_root(pipeline))
    return files if _rows_per_partition(files) == EXPECTED_ROWS else None


def _is_asset(message: BaseMessage) -> bool:
    return message.objectType is ObjectType.DATA_ASSET


BACKENDS = [
    pytest.param("embedded", None, id="embedded-threads"),
    pytest.param("embedded", "processes", id="embedded-processes"),
    pytest.param("containers", None, id="containers", marks=pytest.mark.docker),
]


@pytest.mark.slow
@pytest.mark.parametrize(("pylon_backend", "run"), BACKENDS, indirect=["pylon_backend"])
def test_documents_flow_into_a_deduplicated_lake_with_full_lineage(
    pylon_backend: Backend, pylon_pipeline: Any, run: str | None
) -> None:
    pipeline: LocalPipeline = pylon_pipeline(SPEC, run=run)

    assets = pipeline.recorder("readings").wait_for(3, _is_asset, timeout_s=60)
    files = wait_until(
        lambda: _complete_lake(pipeline),
        timeout_s=60,
        describe=lambda: str(_rows_per_partition(read_lake(_lake_root(pipeline)))),
        what=f"lake partitions with {EXPECTED_ROWS} rows",
    )

    records = [record for part in files.values() for record in part]
    keys = [(r["station"], r["observed_at"]) for r in records]
    assert len(keys) == len(set(keys)), "the lake holds duplicate (station, observed_at) rows"
    parser_runs = {asset.ingestionId for asset in assets}
    assert {r["ingestionId"] for r in records} <= parser_runs
    for asset in assets:
        chain = pipeline.assert_lineage(asset, ["docs-fetcher", "docs-parser"])
        assert pipeline.lineage().wait_for_chain(str(asset.ingestionId)).artifact_names == [
            "docs-fetcher",
            "docs-parser",
        ], "the lineage recorder stored a different chain than the topics carried"
        assert chain.steps[0].metadata.get("document"), chain.steps[0]
        assert isinstance(asset.body, DataAsset)
        assert {r["ingestionId"] for r in asset.body.data} == {asset.ingestionId}


@pytest.mark.slow
def test_every_document_is_one_url_resource_from_one_fetcher_run(pylon_pipeline: Any) -> None:
    pipeline: LocalPipeline = pylon_pipeline(SPEC)

    resources = pipeline.recorder("documents").wait_for(
        3, lambda m: m.objectType is ObjectType.URL_RESOURCE, timeout_s=60
    )

    urls = sorted(r.body.url for r in resources if isinstance(r.body, UrlResource))
    assert [url.rsplit("/", 1)[-1] for url in urls] == [
        "2024-05-01-evening.csv",
        "2024-05-01-morning.csv",
        "2024-05-02.csv",
    ]
    (fetcher_run,) = Counter(r.ingestionId for r in resources)
    root = pipeline.ingestion_steps()[str(fetcher_run)]
    assert root.parentIngestionId is None
    assert (root.artifactName, root.artifactVersion) == ("docs-fetcher", "1.0.0")

"""The docs pipeline end to end through the pytest fixtures, on every backend.

The same test runs on the embedded emulator (MiniStack, components as threads) and,
where Docker runs, on the container backend (a LocalStack-compatible container,
components as containers of the Pylon base image).
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from examples.docs_pipeline.lake import from_jsonl
from harness.pytest_plugin import ALL_BACKENDS, PipelineFactory
from harness.testing.backends import Backend
from harness.testing.waiting import wait_until
from pylon import BaseMessage, DataAsset, ObjectType
from pylon.aws.s3 import S3Store
from pylon.s3_pointer import S3Location

SPEC = Path(__file__).parents[2] / "examples" / "docs_pipeline" / "pipeline.yaml"
# 36 rows in three documents; 8 (station, time) pairs appear in two of them.
EXPECTED_ROWS = {"observed_date=2024-05-01": 16, "observed_date=2024-05-02": 12}


def _rows_per_partition(lake: S3Location) -> dict[str, int]:
    store = S3Store(boto3.client("s3"))
    return {
        key.split("/")[-2]: len(from_jsonl(store.get_text(S3Location(lake.bucket, key)), key))
        for key in store.list_keys(lake)
    }


def _is_asset(message: BaseMessage) -> bool:
    return message.objectType is ObjectType.DATA_ASSET


@pytest.mark.slow
@pytest.mark.parametrize("pylon_backend", ALL_BACKENDS, indirect=True)
def test_documents_flow_into_a_deduplicated_lake(
    pylon_backend: Backend, pylon_pipeline: PipelineFactory
) -> None:
    pipeline = pylon_pipeline(SPEC)
    lake = S3Location.parse(pipeline.resources.components["lake-writer"].pylon_config["LAKE_S3_PATH"])

    assets = pipeline.recorder("readings").wait_for(3, _is_asset, timeout_s=60)

    rows = wait_until(
        lambda: (found := _rows_per_partition(lake)) == EXPECTED_ROWS and found,
        timeout_s=60,
        describe=lambda: str(_rows_per_partition(lake)),
        what=f"the lake at {lake.uri} to hold {EXPECTED_ROWS}",
    )
    assert rows == EXPECTED_ROWS
    parsed = assets[0].body
    assert isinstance(parsed, DataAsset)
    chain = pipeline.assert_lineage(assets[0], ["docs-fetcher", "docs-parser"])
    assert chain.steps[0].metadata["rows"] == len(parsed.data)

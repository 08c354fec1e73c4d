"""Sink stage: merge each DataAsset into the partitioned, de-duplicated lake in S3.

Each partition file is read, merged with the new records (see `lake.merge`) and written
back whole. Merging is idempotent, so a message redelivered after a partial failure
(some partitions written) converges to the same files. The read-modify-write assumes one
writer per partition at a time: run one lake-writer consumer (or one Lambda with reserved
concurrency 1) per lake.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pylon
from examples.docs_pipeline import lake
from examples.docs_pipeline.inputs import require_body
from examples.docs_pipeline.settings import required_text
from pylon import BaseMessage, DataAsset, ObjectType
from pylon.aws.s3 import S3Store
from pylon.s3_pointer import S3Location

logger = logging.getLogger(__name__)


def write_partition(
    store: S3Store,
    root: S3Location,
    partition: lake.Partition,
    records: list[lake.Record],
    unique_keys: list[str],
) -> str:
    """Merge `records` into the partition's part file; return the file's URI."""
    location = root.child(partition.file_key)
    existing = (
        lake.from_jsonl(store.get_text(location), location.uri) if store.exists(location) else []
    )
    merged = lake.merge(existing, records, unique_keys)
    store.put_text(location, lake.to_jsonl(merged), lake.JSONL_MIME_TYPE)
    return location.uri


def read_lake(root: S3Location, store: S3Store | None = None) -> dict[str, list[lake.Record]]:
    """Every part file under `root`, by key relative to it (for inspection and tests)."""
    store = store or S3Store()
    return {
        key[len(root.key) :]: lake.from_jsonl(store.get_text(S3Location(root.bucket, key)), key)
        for key in store.list_keys(root)
    }


@pylon.SinkComponent
def writeToLake(message: BaseMessage | None, config: Mapping[str, Any]) -> pylon.PylonResult:
    asset = require_body(message, DataAsset, ObjectType.DATA_ASSET, "writeToLake")
    lake_path = required_text(config, "LAKE_S3_PATH", "the s3://bucket/prefix/ of the lake")
    root = S3Location.parse(lake_path, "PYLON_CONFIG key LAKE_S3_PATH")
    store = S3Store()
    files = [
        write_partition(store, root, partition, records, asset.dataAssetUniqueKeys)
        for partition, records in lake.split_by_partition(asset).items()
    ]
    logger.info("merged %d record(s) of %s into %s", len(asset.data), asset.dataAssetName, files)
    return pylon.result([], {"files": files, "rows": len(asset.data)})


def lambda_entrypoint(event: Any, context: Any) -> dict[str, Any]:
    return writeToLake.lambda_handler(event, context)


if __name__ == "__main__":
    writeToLake.runForever()

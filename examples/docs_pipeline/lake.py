"""The data-lake layout: where a record lives, and how a partition file is merged.

    <prefix><schema>/<entity>/country=<cc>/<pk>=<value>/.../part-0000.jsonl

One JSON Lines file per partition, records sorted by their unique key. Merging is
"last write wins" per unique key, which makes writing idempotent: SQS delivers at least
once, so the same asset may arrive twice and must not duplicate rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pylon
from pylon import DataAsset

PART_FILE = "part-0000.jsonl"
JSONL_MIME_TYPE = "application/x-ndjson"

Record = dict[str, Any]
# A comparable, hashable stand-in for one key value: numbers before text, then JSON.
KeyPart = tuple[int, float | str]


class LakeLayoutError(pylon.PylonError):
    """A record or file does not fit the lake layout; the message names which and why."""


@dataclass(frozen=True)
class Partition:
    """One folder of the lake: an asset, a country, and a value per partition key."""

    asset_name: str
    country: str
    values: tuple[tuple[str, str], ...] = ()

    @property
    def file_key(self) -> str:
        """The part file's key relative to the lake prefix."""
        schema, entity = self.asset_name.split(".", 1)
        folders = [f"country={_segment(self.country)}"]
        folders += [f"{key}={_segment(value)}" for key, value in self.values]
        return "/".join([schema, entity, *folders, PART_FILE])


def _segment(value: str) -> str:
    # Percent-encode like Hive does, so a "/" in a value cannot create extra folders.
    return quote(value, safe="-_.~:")


def partition_of(record: Record, asset: DataAsset, index: int) -> Partition:
    """The partition `record` (number `index` of `asset`) belongs to."""
    values = []
    for key in asset.dataAssetPartitionKeys:
        where = f"{asset.dataAssetName} record {index}: partition key {key!r}"
        if record.get(key) is None:
            raise LakeLayoutError(f"{where} is missing (record keys: {sorted(record)})")
        text = str(record[key])
        if text.strip(".") == "":
            raise LakeLayoutError(f"{where} is {text!r}; it cannot be a folder name")
        values.append((key, text))
    return Partition(asset.dataAssetName, asset.dataAssetCountry, tuple(values))


def split_by_partition(asset: DataAsset) -> dict[Partition, list[Record]]:
    """The asset's records grouped by partition, in first-seen order.

    Every record's unique key is checked here too, so a bad record fails the whole asset
    before any partition file is written.
    """
    groups: dict[Partition, list[Record]] = {}
    for index, record in enumerate(asset.data):
        unique_key(record, asset.dataAssetUniqueKeys)
        groups.setdefault(partition_of(record, asset, index), []).append(record)
    return groups


def unique_key(record: Record, unique_keys: Sequence[str]) -> tuple[KeyPart, ...]:
    """The record's identity: its unique-key values, comparable across types."""
    if not unique_keys:
        raise LakeLayoutError(
            "the asset has no dataAssetUniqueKeys; the lake needs them to de-duplicate "
            "redelivered and overlapping records"
        )
    missing = [key for key in unique_keys if record.get(key) is None]
    if missing:
        raise LakeLayoutError(f"record {record!r} lacks unique key(s) {missing}")
    return tuple(_key_part(record[key]) for key in unique_keys)


def _key_part(value: Any) -> KeyPart:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def merge(
    existing: Iterable[Record], incoming: Iterable[Record], unique_keys: Sequence[str]
) -> list[Record]:
    """Existing then incoming records, one per unique key (the last one wins), sorted by it."""
    merged: dict[tuple[KeyPart, ...], Record] = {}
    for record in [*existing, *incoming]:
        merged[unique_key(record, unique_keys)] = record
    return [merged[key] for key in sorted(merged)]


def to_jsonl(records: Iterable[Record]) -> str:
    """JSON Lines with sorted keys, so rewriting unchanged data gives identical bytes."""
    return "".join(
        json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        for record in records
    )


def from_jsonl(text: str, where: str) -> list[Record]:
    """The records of a part file; `where` (its URI) names it in errors."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LakeLayoutError(f"{where}: line {number} is not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise LakeLayoutError(f"{where}: line {number} is not a JSON object")
        records.append(record)
    return records

"""`DataAsset`: a batch of records of one entity (`schema.entity`) for one country."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pylon.errors import ValidationError
from pylon.interfaces.serializing import JsonSerializable

# `schema.entity`, both parts identifiers: they become table and folder names downstream.
ASSET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
# Names already matched: a pipeline carries a few assets, each in every message, and the
# match costs a fifth of validating one. Bounded, in case names are made per message.
_GOOD_NAMES: set[str] = set()
_GOOD_NAMES_KEPT = 1024


@dataclass(repr=False)
class DataAsset(JsonSerializable):
    """Records of one data asset; partition and unique keys must exist in every record."""

    dataAssetName: str
    dataAssetCountry: str
    data: list[dict[str, Any]]
    dataAssetPartitionKeys: list[str] = field(default_factory=list)
    dataAssetUniqueKeys: list[str] = field(default_factory=list)
    ingestionId: str | None = None

    def validate(self, where: str) -> None:
        name = self.dataAssetName
        if name not in _GOOD_NAMES:
            if not ASSET_NAME.match(name):
                raise ValidationError(
                    f"{where}.dataAssetName", f"must look like 'schema.entity', got {name!r}"
                )
            if len(_GOOD_NAMES) < _GOOD_NAMES_KEPT:
                _GOOD_NAMES.add(name)
        if not self.dataAssetCountry.strip():
            raise ValidationError(f"{where}.dataAssetCountry", "must not be empty")
        keys = [*self.dataAssetPartitionKeys, *self.dataAssetUniqueKeys]
        required = frozenset(keys)
        for record in self.data:  # a loop, not all(...): one check per record, no generator
            if not required <= record.keys():
                break
        else:
            return
        for index, record in enumerate(self.data):
            missing = [k for k in keys if k not in record]
            if missing:
                raise ValidationError(f"{where}.data[{index}]", f"key(s) {missing} missing")

    def stamp(self, ingestion_id: str) -> None:
        """Record lineage on the asset and on every record (downstream tables keep it)."""
        self.ingestionId = ingestion_id
        for record in self.data:
            record["ingestionId"] = ingestion_id

"""`IngestionStep`: the lineage record of one component execution."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pylon.errors import ValidationError
from pylon.interfaces.serializing import JsonSerializable


@dataclass(repr=False)
class IngestionStep(JsonSerializable):
    """Who produced what, when, from which parent step.

    The `dim*` fields are pre-computed partitions so lineage tables can be queried by day
    and hour without parsing timestamps.
    """

    ingestionId: str
    artifactName: str
    artifactVersion: str
    dimUTCTimestamp: str
    dimUTCDateId: int
    dimUTCHour: int
    parentIngestionId: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        ingestion_id: str,
        artifact_name: str,
        artifact_version: str,
        parent_ingestion_id: str | None,
        now: datetime | None = None,
    ) -> IngestionStep:
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        return cls(
            ingestionId=ingestion_id,
            artifactName=artifact_name,
            artifactVersion=artifact_version,
            dimUTCTimestamp=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            dimUTCDateId=moment.year * 10000 + moment.month * 100 + moment.day,  # YYYYMMDD
            dimUTCHour=moment.hour,
            parentIngestionId=parent_ingestion_id,
        )

    def validate(self, where: str) -> None:
        if not 0 <= self.dimUTCHour <= 23:
            raise ValidationError(f"{where}.dimUTCHour", f"must be 0..23, got {self.dimUTCHour}")
        if not 19700101 <= self.dimUTCDateId <= 99991231:
            raise ValidationError(
                f"{where}.dimUTCDateId", f"must be a YYYYMMDD date, got {self.dimUTCDateId}"
            )

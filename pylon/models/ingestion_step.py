"""`IngestionStep`: the lineage record of one component execution."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

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
        stamp = _UTC_CLOCK.now() if now is None else _UtcStamp.of(now.astimezone(UTC))
        return cls(
            ingestionId=ingestion_id,
            artifactName=artifact_name,
            artifactVersion=artifact_version,
            dimUTCTimestamp=stamp.timestamp,
            dimUTCDateId=stamp.date_id,
            dimUTCHour=stamp.hour,
            parentIngestionId=parent_ingestion_id,
        )

    def validate(self, where: str) -> None:
        if not 0 <= self.dimUTCHour <= 23:
            raise ValidationError(f"{where}.dimUTCHour", f"must be 0..23, got {self.dimUTCHour}")
        if not 19700101 <= self.dimUTCDateId <= 99991231:
            raise ValidationError(
                f"{where}.dimUTCDateId", f"must be a YYYYMMDD date, got {self.dimUTCDateId}"
            )


class _UtcStamp(NamedTuple):
    """A moment as a step records it: ISO 8601 to the millisecond, YYYYMMDD, hour."""

    timestamp: str
    date_id: int
    hour: int

    @classmethod
    def of(cls, moment: datetime) -> _UtcStamp:
        return cls(
            moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            moment.year * 10000 + moment.month * 100 + moment.day,
            moment.hour,
        )


# `.000Z` to `.999Z`: a step's timestamp ends in its milliseconds, formatted once.
_MILLISECOND_SUFFIXES = tuple(f".{milliseconds:03d}Z" for milliseconds in range(1000))


class _UtcClock:
    """`_UtcStamp.of(datetime.now(UTC))`, with the date and time formatted once per second
    (a component records a step per message; only the milliseconds change within one)."""

    def __init__(self) -> None:
        # The second, its timestamp up to the milliseconds, its date id and its hour: one
        # tuple, swapped atomically.
        self._second: tuple[int, str, int, int] = (-1, "", 0, 0)

    def now(self) -> _UtcStamp:
        # Whole seconds and microseconds rounded as datetime.fromtimestamp rounds them.
        whole, micro = divmod(round(time.time() * 1_000_000), 1_000_000)
        second, prefix, date_id, hour = self._second
        if whole != second:
            stamp = _UtcStamp.of(datetime.fromtimestamp(whole, UTC))
            prefix, date_id, hour = stamp.timestamp[:-5], stamp.date_id, stamp.hour
            self._second = (whole, prefix, date_id, hour)
        return _UtcStamp(prefix + _MILLISECOND_SUFFIXES[micro // 1000], date_id, hour)


_UTC_CLOCK = _UtcClock()

"""The readings CSV format: one weather-station reading per row, checked cell by cell.

    station,observed_at,temperature_c,humidity
    06260-de-bilt,2024-05-01T00:00:00Z,7.5,86

Each row becomes a record with `observed_at` normalised to UTC (`...Z`), `observed_date`
(`YYYY-MM-DD`, the lake partition) derived from it, and the measurements as floats.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from typing import Any

import pylon

COLUMNS = ("station", "observed_at", "temperature_c", "humidity")
NUMBER_COLUMNS = ("temperature_c", "humidity")

Reading = dict[str, Any]


class CsvFormatError(pylon.PylonError):
    """A readings document is malformed; the message names document, line and column."""

    def __init__(self, document: str, line: int, column: str | None, problem: str) -> None:
        where = f"line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{document}: {where}: {problem}")
        self.document = document
        self.line = line
        self.column = column


def parse_readings(text: str, document: str) -> list[Reading]:
    """All readings of one document, in document order; `document` names it in errors."""
    reader = csv.DictReader(io.StringIO(text))
    _check_header(reader.fieldnames, document)
    return [_reading(row, reader.line_num, document) for row in reader]


def _check_header(fieldnames: Any, document: str) -> None:
    missing = [c for c in COLUMNS if c not in (fieldnames or [])]
    if missing:
        raise CsvFormatError(
            document, 1, None, f"header {fieldnames} lacks column(s) {missing}; need {COLUMNS}"
        )


def _reading(row: dict[str | Any, str | Any], line: int, document: str) -> Reading:
    if None in row:  # csv.DictReader files surplus cells under the key None
        raise CsvFormatError(document, line, None, f"more cells than the {len(COLUMNS)} columns")
    cells = {column: _cell(row, column, line, document) for column in COLUMNS}
    observed_at = _timestamp(cells["observed_at"], line, document)
    return {
        "station": cells["station"],
        "observed_at": observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observed_date": observed_at.strftime("%Y-%m-%d"),
        **{c: _number(cells[c], c, line, document) for c in NUMBER_COLUMNS},
    }


def _cell(row: dict[str | Any, str | Any], column: str, line: int, document: str) -> str:
    value = row.get(column)
    if value is None or not value.strip():
        raise CsvFormatError(document, line, column, "value is missing")
    return str(value).strip()


def _timestamp(text: str, line: int, document: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CsvFormatError(
            document, line, "observed_at", f"{text!r} is not an ISO 8601 date-time"
        ) from None
    if moment.tzinfo is None:
        # A reading without an offset is ambiguous across stations and DST; refuse to guess.
        raise CsvFormatError(
            document, line, "observed_at", f"{text!r} has no UTC offset (write e.g. {text}Z)"
        )
    return moment.astimezone(UTC)


def _number(text: str, column: str, line: int, document: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CsvFormatError(document, line, column, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise CsvFormatError(document, line, column, f"{text!r} is not a finite number")
    return value

"""The readings CSV format and the document index: records out, or errors that say where."""

from __future__ import annotations

import pytest

from examples.docs_pipeline.data_server import DATA_DIR
from examples.docs_pipeline.fetcher import DocumentIndexError, parse_index
from examples.docs_pipeline.readings import CsvFormatError, parse_readings

HEADER = "station,observed_at,temperature_c,humidity\n"
DOC = "http://127.0.0.1:1/doc.csv"


def test_rows_become_records_with_utc_time_derived_date_and_float_numbers() -> None:
    text = HEADER + "s1,2024-05-01T23:30:00-02:00,7,86.5\n"

    assert parse_readings(text, DOC) == [
        {
            "station": "s1",
            "observed_at": "2024-05-02T01:30:00Z",
            "observed_date": "2024-05-02",
            "temperature_c": 7.0,
            "humidity": 86.5,
        }
    ]


def test_sample_documents_parse_and_overlap_on_station_and_time() -> None:
    keys = [
        {(r["station"], r["observed_at"]) for r in parse_readings(path.read_text(), path.name)}
        for path in sorted(DATA_DIR.glob("*.csv"))
    ]

    assert all(10 <= len(k) <= 20 for k in keys)
    assert len(set().union(*keys)) < sum(len(k) for k in keys)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("s1,2024-05-01T00:00:00Z,warm,80", "line 3, column 'temperature_c': 'warm' is not a number"),
        ("s1,2024-05-01T00:00:00Z,7,nan", "line 3, column 'humidity': 'nan' is not a finite"),
        ("s1,yesterday,7,80", "line 3, column 'observed_at': 'yesterday' is not an ISO 8601"),
        ("s1,2024-05-01T00:00:00,7,80", "line 3, column 'observed_at': '2024-05-01T00:00:00' has no UTC offset"),
        (",2024-05-01T00:00:00Z,7,80", "line 3, column 'station': value is missing"),
        ("s1,2024-05-01T00:00:00Z,7", "line 3, column 'humidity': value is missing"),
        ("s1,2024-05-01T00:00:00Z,7,80,extra", "line 3: more cells than the 4 columns"),
    ],
)  # fmt: skip
def test_bad_cell_error_names_document_line_and_column(row: str, expected: str) -> None:
    text = HEADER + "s1,2024-05-01T00:00:00Z,7,80\n" + row + "\n"

    with pytest.raises(CsvFormatError) as caught:
        parse_readings(text, DOC)

    assert str(caught.value).startswith(f"{DOC}: ")
    assert expected in str(caught.value)


def test_missing_header_column_is_named() -> None:
    with pytest.raises(CsvFormatError, match=r"line 1: header .* lacks column\(s\) \['humidity'\]"):
        parse_readings("station,observed_at,temperature_c\n", DOC)


def test_index_paths_resolve_against_the_index_url() -> None:
    text = '{"documents": [{"path": "a.csv", "name": "A"}, {"path": "https://x.test/b.csv"}]}'

    resources = parse_index(text, "http://127.0.0.1:8000/data/index.json")

    assert [(r.url, r.name, r.mimeType) for r in resources] == [
        ("http://127.0.0.1:8000/data/a.csv", "A", "text/csv"),
        ("https://x.test/b.csv", "https://x.test/b.csv", "text/csv"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<html>", "is not valid JSON"),
        ("[]", 'must be a JSON object with a "documents" list'),
        ('{"documents": [{"name": "no path"}]}', 'documents[0] needs a non-empty string "path"'),
    ],
)
def test_malformed_index_error_names_the_index_url(text: str, expected: str) -> None:
    with pytest.raises(DocumentIndexError) as caught:
        parse_index(text, "http://127.0.0.1:8000/index.json")

    assert "http://127.0.0.1:8000/index.json" in str(caught.value)
    assert expected in str(caught.value)

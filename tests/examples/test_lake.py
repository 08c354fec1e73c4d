"""The lake layout's pure logic: partition paths, merge with de-duplication, stable output."""

from __future__ import annotations

from typing import Any

import pytest

from examples.docs_pipeline import lake
from pylon import DataAsset


def _asset(records: list[dict[str, Any]], partition_keys: list[str] | None = None) -> DataAsset:
    return DataAsset(
        dataAssetName="weather.readings",
        dataAssetCountry="NL",
        data=records,
        dataAssetPartitionKeys=["observed_date"] if partition_keys is None else partition_keys,
        dataAssetUniqueKeys=["station", "observed_at"],
    )


def _reading(station: str, at: str, temperature: float = 10.0) -> dict[str, Any]:
    return {"station": station, "observed_at": at, "observed_date": at[:10], "t": temperature}


def test_partition_file_key_is_schema_entity_country_then_partition_values() -> None:
    partition = lake.Partition("weather.readings", "NL", (("observed_date", "2024-05-01"),))

    assert partition.file_key == (
        "weather/readings/country=NL/observed_date=2024-05-01/part-0000.jsonl"
    )


def test_partition_file_key_nests_several_partition_keys_in_order() -> None:
    partition = lake.Partition("a.b", "BE", (("year", "2024"), ("station", "x")))

    assert partition.file_key == "a/b/country=BE/year=2024/station=x/part-0000.jsonl"


def test_partition_values_cannot_create_extra_folders() -> None:
    partition = lake.Partition("a.b", "NL", (("station", "north/east"),))

    assert partition.file_key == "a/b/country=NL/station=north%2Feast/part-0000.jsonl"


def test_asset_without_partition_keys_has_one_file_per_country() -> None:
    asset = _asset([_reading("s1", "2024-05-01T00:00:00Z")], partition_keys=[])

    (partition,) = lake.split_by_partition(asset)

    assert partition.file_key == "weather/readings/country=NL/part-0000.jsonl"


def test_records_are_grouped_by_partition_in_first_seen_order() -> None:
    records = [
        _reading("s1", "2024-05-02T00:00:00Z"),
        _reading("s1", "2024-05-01T00:00:00Z"),
        _reading("s2", "2024-05-02T03:00:00Z"),
    ]

    groups = lake.split_by_partition(_asset(records))

    assert [dict(p.values)["observed_date"] for p in groups] == ["2024-05-02", "2024-05-01"]
    assert [len(group) for group in groups.values()] == [2, 1]


def test_record_missing_a_partition_key_is_a_clear_error() -> None:
    records = [_reading("s1", "2024-05-01T00:00:00Z"), {"station": "s2", "observed_at": "x"}]

    with pytest.raises(lake.LakeLayoutError) as caught:
        lake.split_by_partition(_asset(records))

    message = str(caught.value)
    assert "weather.readings record 1" in message
    assert "partition key 'observed_date' is missing" in message


def test_partition_value_that_is_only_dots_is_refused() -> None:
    with pytest.raises(lake.LakeLayoutError, match="cannot be a folder name"):
        lake.split_by_partition(_asset([{**_reading("s1", "x"), "observed_date": ".."}]))


def test_record_missing_a_unique_key_fails_before_any_grouping() -> None:
    with pytest.raises(lake.LakeLayoutError, match=r"lacks unique key\(s\) \['observed_at'\]"):
        lake.split_by_partition(_asset([{"station": "s1", "observed_date": "2024-05-01"}]))


def test_merge_without_unique_keys_is_refused() -> None:
    with pytest.raises(lake.LakeLayoutError, match="no dataAssetUniqueKeys"):
        lake.merge([], [_reading("s1", "2024-05-01T00:00:00Z")], [])


def test_merge_deduplicates_by_unique_keys_and_the_last_write_wins() -> None:
    existing = [_reading("s1", "2024-05-01T00:00:00Z", 1.0), _reading("s1", "2024-05-01T03:00:00Z")]
    incoming = [
        _reading("s1", "2024-05-01T00:00:00Z", 2.0),
        _reading("s1", "2024-05-01T00:00:00Z", 3.0),
    ]

    merged = lake.merge(existing, incoming, ["station", "observed_at"])

    assert [(r["observed_at"], r["t"]) for r in merged] == [
        ("2024-05-01T00:00:00Z", 3.0),
        ("2024-05-01T03:00:00Z", 10.0),
    ]


def test_merge_output_is_sorted_by_unique_key_whatever_the_input_order() -> None:
    records = [
        _reading("s2", "2024-05-01T00:00:00Z"),
        _reading("s1", "2024-05-01T03:00:00Z"),
        _reading("s1", "2024-05-01T00:00:00Z"),
    ]

    forward = lake.merge([], records, ["station", "observed_at"])
    backward = lake.merge(list(reversed(records)), [], ["station", "observed_at"])

    expected = [
        ("s1", "2024-05-01T00:00:00Z"),
        ("s1", "2024-05-01T03:00:00Z"),
        ("s2", "2024-05-01T00:00:00Z"),
    ]
    assert [(r["station"], r["observed_at"]) for r in forward] == expected
    assert lake.to_jsonl(forward) == lake.to_jsonl(backward)


def test_numeric_unique_keys_sort_as_numbers_not_text() -> None:
    records: list[dict[str, Any]] = [{"id": 10}, {"id": 9}, {"id": 9.0}, {"id": "7"}]

    merged = lake.merge([], records, ["id"])

    assert merged == [{"id": 9.0}, {"id": 10}, {"id": "7"}]


def test_jsonl_round_trips_with_sorted_keys_one_record_per_line() -> None:
    records = [{"b": 1, "a": "é"}, {"a": "x", "b": 2.5}]

    text = lake.to_jsonl(records)

    assert text == '{"a":"é","b":1}\n{"a":"x","b":2.5}\n'
    assert lake.from_jsonl(text, "s3://lake/f.jsonl") == records


def test_part_file_with_a_broken_line_names_file_and_line() -> None:
    with pytest.raises(lake.LakeLayoutError, match=r"s3://lake/f.jsonl: line 2 is not JSON"):
        lake.from_jsonl('{"a":1}\n{"a":\n', "s3://lake/f.jsonl")

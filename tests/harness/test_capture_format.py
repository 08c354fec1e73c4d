"""The capture file format and the replay filter/pacer: pure logic, no emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.capture.format import (
    FORMAT_VERSION,
    CapturedMessage,
    CapturedPayload,
    CaptureFormatError,
    CaptureReader,
    CaptureWriter,
    parse_line,
    parse_time,
)
from harness.capture.replay import Pacer, ReplayError, ReplayFilter

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def message(number: int, object_type: str = "rawContent", **changes: object) -> CapturedMessage:
    fields: dict[str, object] = {
        "message_id": f"m-{number}",
        "body": f"body {number} ünïcode ✓",
        "attributes": {
            "objectType": {"DataType": "String", "StringValue": object_type},
            "rank": {"DataType": "Number", "StringValue": str(number)},
            "blob": {"DataType": "Binary", "BinaryValue": "AAEC"},
        },
        "captured_at": T0 + timedelta(seconds=number, milliseconds=500),
        "source": {"kind": "queue", "name": "q", "address": "http://127.0.0.1/q"},
        "sent_at": T0 + timedelta(seconds=number),
        "system_attributes": {"SentTimestamp": "1714557600000"},
    }
    fields.update(changes)
    return CapturedMessage(**fields)  # type: ignore[arg-type]


def write(path: Path, *messages: CapturedMessage) -> Path:
    with CaptureWriter(path) as writer:
        for item in messages:
            writer.write(item)
    return path


def test_a_line_round_trips_every_field() -> None:
    original = message(1, payload=CapturedPayload("s3://b/k", data=b"\x00big\xff"))

    line = original.to_line()
    parsed = parse_line(line, "here")

    assert json.loads(line)["v"] == FORMAT_VERSION
    assert parsed == original
    assert parsed.payload is not None and parsed.payload.data == b"\x00big\xff"


def test_a_payload_that_could_not_be_fetched_keeps_the_reason() -> None:
    original = message(1, payload=CapturedPayload("s3://b/k", error="AccessDenied"))

    parsed = parse_line(original.to_line(), "here")

    assert parsed.payload == CapturedPayload("s3://b/k", data=None, error="AccessDenied")


def test_reader_numbers_lines_and_ignores_blank_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", message(1), message(2))
    path.write_text(path.read_text().replace("\n", "\n\n", 1))

    numbers = [number for number, _ in CaptureReader(path)]

    assert numbers == [1, 3]


def test_truncated_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", message(1), message(2), message(3))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:2], lines[2][:40]]) + "\n")

    with pytest.raises(
        CaptureFormatError,
        match=r"c\.jsonl line 3: not valid JSON .*truncated capture.*--skip-bad-lines",
    ):
        list(CaptureReader(path))


def test_skip_bad_lines_reads_the_rest_and_lists_what_was_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", message(1), message(2), message(3))
    lines = path.read_text().splitlines()
    path.write_bytes(
        "\n".join([lines[0], "not json at all", lines[1]]).encode()
        + b"\n\xff\xfe\n"
        + lines[2][:30].encode()
    )
    reader = CaptureReader(path, skip_bad_lines=True)

    ids = [m.message_id for _, m in reader]

    assert ids == ["m-1", "m-2"]
    assert [bad.line for bad in reader.skipped] == [2, 4, 5]
    assert "not UTF-8" in reader.skipped[1].reason
    assert "not valid JSON" in reader.skipped[2].reason


def test_a_newer_format_version_asks_for_an_upgrade() -> None:
    record = json.loads(message(1).to_line()) | {"v": FORMAT_VERSION + 1}

    with pytest.raises(CaptureFormatError, match=r"line 9: capture format v2 is newer .*upgrade"):
        parse_line(json.dumps(record), "f line 9")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"v": None}, r"'v' must be the capture format version 1"),
        ({"body": 5}, r"'body' must be a string"),
        ({"attributes": {"objectType": "dataAsset"}}, r"'attributes' must map names"),
        ({"capturedAt": "yesterday"}, r"capturedAt: 'yesterday' is not an ISO 8601"),
        ({"payload": {"s3Uri": "s3://b/k", "base64": "***"}}, r"malformed capture record"),
    ],
)
def test_malformed_records_name_the_problem(change: dict[str, object], problem: str) -> None:
    record = json.loads(message(1).to_line()) | change

    with pytest.raises(CaptureFormatError, match=problem):
        parse_line(json.dumps(record), "f line 1")


def test_missing_fields_are_listed() -> None:
    record = json.loads(message(1).to_line())
    del record["body"], record["source"]

    with pytest.raises(CaptureFormatError, match=r"field\(s\) \['body', 'source'\] missing"):
        parse_line(json.dumps(record), "f line 1")


def test_times_without_a_zone_are_utc() -> None:
    assert parse_time("2024-05-01T10:00:00", "x") == T0
    assert parse_time("2024-05-01T12:00:00+02:00", "x") == T0


def test_filter_by_object_type_and_sent_time() -> None:
    chosen = ReplayFilter(
        {"dataAsset"}, since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4)
    )

    accepted = [
        m.message_id
        for m in (message(n, "dataAsset" if n % 2 else "ingestionStep") for n in range(1, 7))
        if chosen.accepts(m)
    ]

    assert accepted == ["m-3"]


def test_filter_falls_back_to_capture_time_when_sent_time_is_unknown() -> None:
    late = message(1, sent_at=None, captured_at=T0 + timedelta(hours=1))

    assert not ReplayFilter(until=T0 + timedelta(minutes=5)).accepts(late)
    assert ReplayFilter(since=T0 + timedelta(minutes=5)).accepts(late)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_pacer_spaces_messages_evenly_from_the_first() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock, clock.sleep)

    pacer.wait()
    pacer.wait()
    clock.now += 0.1  # time spent sending
    pacer.wait()

    assert clock.slept == [0.25, 0.15]


def test_pacer_without_rate_never_waits() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock, clock.sleep)

    for _ in range(5):
        pacer.wait()

    assert clock.slept == []


def test_rate_must_be_positive() -> None:
    with pytest.raises(ReplayError, match="positive number of messages per second, got 0"):
        Pacer(0)

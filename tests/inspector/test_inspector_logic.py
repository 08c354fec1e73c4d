"""The inspector's pure logic, without an emulator: the store and its journeys, log lines
as events, the form's validation, exported tests, where the server listens."""

from __future__ import annotations

import json

import pytest

from harness.inspector.actions import (
    FormError,
    MessageForm,
    export_test,
    parse_attributes,
    spec_name,
    validated,
)
from harness.inspector.log_events import LogTap, as_text, json_event
from harness.inspector.server import Binding
from harness.inspector.store import LogEvent, MessageStore, Seen, lineage, step_from_dict


def seen(where: str, name: str, n: int, ingestion_id: str, object_type: str = "rawContent",
         body: str = "body") -> Seen:  # fmt: skip
    attributes = {"objectType": object_type, "ingestionId": ingestion_id}
    return Seen(where, name, f"m{n}", body, attributes, 1_700_000_000_000 + n)


def step_body(step_id: str, parent: str | None, artifact: str, **metadata: object) -> str:
    return json.dumps({
        "ingestionId": step_id, "parentIngestionId": parent, "artifactName": artifact,
        "artifactVersion": "1.0.0", "dimUTCTimestamp": f"2026-12-02T00:00:0{len(step_id) % 10}Z",
        "metadata": metadata,
    })  # fmt: skip


def test_the_oldest_messages_are_dropped_from_every_index() -> None:
    store = MessageStore(limit=3)
    for n in range(5):
        store.add(seen("queue", "q", n, f"id-{n % 2}"))

    assert [m.message_id for m in store.messages("queue", "q")] == ["m2", "m3", "m4"]
    assert [m.message_id for m in store.find("id-0")] == ["m2", "m4"]
    assert store.message("queue", "q", "m0") is None and store.message("queue", "q", "m3")
    assert store.count() == 3


def test_a_journey_has_its_messages_each_hop_with_timings_and_outputs_and_its_lineage() -> None:
    store = MessageStore()
    store.add(seen("topic", "words", 1, "root"))
    store.add(seen("queue", "shout-in", 2, "root"))
    store.add(
        seen("topic", "words", 3, "fetch", "ingestionStep", step_body("fetch", None, "fetcher"))
    )
    store.add(
        seen("topic", "words", 4, "root", "ingestionStep", step_body("root", "fetch", "source"))
    )
    store.add(
        seen("topic", "shouted", 5, "s1", "ingestionStep", step_body("s1", "root", "shouter", n=4))
    )
    store.add(seen("topic", "shouted", 6, "s1", body="OUT"))
    store.add_event(LogEvent("shout", "timing", 1.0, "s1", "root", "total", 4.5))
    store.add_event(LogEvent("keep", "timing", 2.0, None, "root", "total", 1.5))  # a sink

    journey = store.journey("root")

    assert [(m.where, m.name) for m in journey.messages] == [
        ("topic", "words"),
        ("queue", "shout-in"),
    ]
    shout, keep = journey.hops
    assert (shout.step_id, shout.artifact, shout.component) == ("s1", "shouter", "shout")
    assert shout.timings == {"total": 4.5} and shout.metadata == {"n": 4}
    assert [o.body for o in shout.outputs] == ["OUT"]
    assert (keep.step_id, keep.component, keep.timings, keep.outputs) == (
        "",
        "keep",
        {"total": 1.5},
        [],
    )
    assert [s.ingestion_id for s in journey.lineage] == ["root", "fetch"]


def test_lineage_stops_at_a_gap_and_at_a_cycle() -> None:
    a = step_from_dict({"ingestionId": "a", "parentIngestionId": "b"})
    b = step_from_dict({"ingestionId": "b", "parentIngestionId": "a"})
    assert [s.ingestion_id for s in lineage({"a": a, "b": b}, "a")] == ["a", "b"]
    assert [s.ingestion_id for s in lineage({"a": a}, "a")] == ["a"]
    assert lineage({}, "missing") == []


def test_json_log_records_become_events_and_the_console_gets_text() -> None:
    store = MessageStore()
    printed: list[tuple[str, str]] = []
    tap = LogTap(store, lambda name, line: printed.append((name, line)))
    timing = {"timestamp": "2026-12-02T04:16:21.973635+00:00", "level": "INFO", "logger": "pylon",
              "message": "timed_execution total 4.590 ms", "metric": "timed_execution",
              "timer": "total", "time_ms": 4.59, "ingestion_id": "s1", "parent_ingestion_id": "p"}  # fmt: skip
    tap("shout", json.dumps(timing))
    tap("shout", "04:16:22,000 ERROR pylon.worker message abc failed (receive 2): ValueError: "
                 "no; it stays in the queue for redelivery")  # fmt: skip
    tap("shout", "not json {")

    timing_event, failure_event = store.events("shout")
    assert (failure_event.kind, failure_event.message_id) == ("failure", "abc")
    assert (timing_event.kind, timing_event.ingestion_id, timing_event.parent_ingestion_id) == (
        "timing", "s1", "p",
    )  # fmt: skip
    assert store.failure_reason("abc") == "ValueError: no"
    assert printed[0] == ("shout", "04:16:21,973 INFO pylon timed_execution total 4.590 ms")
    assert printed[2] == ("shout", "not json {")
    assert store.processed_since("shout", 0) == 1


def test_a_heartbeat_record_sets_the_last_heartbeat() -> None:
    store = MessageStore()
    json_event(store, "c", {"message": "heartbeat run_forever", "heartbeat": "run_forever"})
    assert store.last_heartbeat("c") is not None and store.last_heartbeat("other") is None
    assert as_text({"message": "x", "timestamp": "garbage"}).startswith("--:--:--,---")


def test_the_form_is_checked_against_the_message_schema() -> None:
    message = validated(MessageForm("", "rawContent", "ingestionId=abc\npayloadType=S3\nk=v", "hi"))
    assert (message.ingestionId, message.attributes) == ("abc", {"k": "v"})
    with pytest.raises(FormError, match="objectType 'bogus' is not one of"):
        validated(MessageForm("", "bogus", "", "x"))
    with pytest.raises(FormError, match="body is not valid JSON"):
        validated(MessageForm("", "dataAsset", "", "{"))
    with pytest.raises(FormError, match="attributes line 1: expected NAME=VALUE"):
        parse_attributes("novalue")


def test_exported_tests_name_topics_as_the_spec_does() -> None:
    assert spec_name("t1a2b3-shouted", ["words", "shouted"]) == "shouted"
    assert spec_name("words", ["words"]) == "words"
    assert spec_name("elsewhere", ["words"]) == "elsewhere"
    store = MessageStore()
    store.add(seen("topic", "t1-words", 1, "root", body="hi"))
    store.add_event(LogEvent("keep", "timing", 1.0, None, "root", "total", 1.0))  # a sink took it
    with pytest.raises(FormError, match="no component published outputs"):
        export_test(store.journey("root"), "spec.yaml", ["words"])
    with pytest.raises(FormError, match="has no published input"):
        export_test(store.journey("nothing"), "spec.yaml", ["words"])


def test_the_server_is_local_unless_asked() -> None:
    assert (Binding().host, Binding().allowed_hosts) == (
        "127.0.0.1",
        ["127.0.0.1", "localhost", "[::1]"],
    )
    assert (Binding(remote=True).host, Binding(remote=True).allowed_hosts) == ("0.0.0.0", ["*"])

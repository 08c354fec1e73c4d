"""FIFO pipelines end to end on the emulator: order per group through two FIFO stages,
de-duplication, a failing message holding back only its own group until it dead-letters,
group ids that AWS would refuse, and large payloads on a FIFO topic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.capture.format import CaptureWriter
from harness.capture.recording import StopWhen, capture
from harness.capture.replay import ReplayError, replay
from harness.cli.main import app
from harness.messaging.dlq import redrive
from harness.messaging.sending import FifoIdError, FifoIds, send_message
from harness.messaging.targets import Target
from harness.pipeline.local_pipeline import LocalPipeline
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from tests.harness.test_dlq import receive_all

Factory = Callable[..., LocalPipeline]
FAST = {"WAIT_TIME_SECONDS": 1}
DATA_ONLY = {"objectType": [ObjectType.RAW_CONTENT.value]}  # not the step records


def two_stages(
    first: dict[str, Any] | None = None, second: dict[str, Any] | None = None
) -> dict[str, Any]:
    """readings.fifo -> first (inherits groups) -> checked.fifo -> second (groups by station)
    -> stored.fifo."""
    return {
        "name": "fifo",
        "topics": ["readings.fifo"],
        "payloads": {"s3_path": "s3://fifo-payloads/offload/"},
        "buckets": ["fifo-payloads"],
        "components": {
            "first": {
                "type": "pipeline",
                "entrypoint": "tests.e2e.fifo_components:inherit_group",
                "fifo": True,
                "subscribe": [{"topic": "readings.fifo", "filter": DATA_ONLY}],
                "output_topic": "checked.fifo",
                "visibility_timeout": 2,
                "max_receive_count": 10,
                "config": FAST | (first or {}),
            },
            "second": {
                "type": "pipeline",
                "entrypoint": "tests.e2e.fifo_components:group_by_station",
                "fifo": True,
                "subscribe": [{"topic": "checked.fifo", "filter": DATA_ONLY}],
                "output_topic": "stored.fifo",
                "visibility_timeout": 2,
                "max_receive_count": 10,
                "config": FAST | (second or {}),
            },
        },
    }


def reading(station: str, seq: int, body: str | None = None) -> BaseMessage:
    return BaseMessage(
        body=body or f"{station} reading {seq}",
        objectType=ObjectType.RAW_CONTENT,
        attributes={"station": station, "seq": str(seq)},
    )


def publish_readings(started: LocalPipeline, count: int) -> None:
    """Readings 0..count-1 of north and south, interleaved, each station its own group."""
    for number in range(count):
        for station in ("north", "south"):
            started.publish("readings.fifo", reading(station, number), group_id=station)


def seq(message: BaseMessage) -> int:
    return int(message.attributes["seq"])


@pytest.fixture
def pipeline(pylon_pipeline: Factory) -> Iterator[Factory]:
    yield pylon_pipeline


def test_order_per_group_survives_two_stages_and_the_group_follows_the_station(
    pipeline: Factory,
) -> None:
    started = pipeline(two_stages())
    stations = ["north", "south", "east"]
    for number in range(15):
        for station in stations:
            # The input group is the station with a prefix: the first stage keeps it, the
            # second regroups by the `station` attribute (its decorator argument).
            started.publish("readings.fifo", reading(station, number), group_id=f"in-{station}")

    stored = started.recorder("stored.fifo")
    stored.wait_for(45, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60)
    groups = stored.assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert sorted(groups) == sorted(stations)
    assert all([seq(m) for m in groups[s]] == list(range(15)) for s in stations)
    checked = started.recorder("checked.fifo").assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert sorted(checked) == sorted(f"in-{s}" for s in stations)
    # Each step record travels in the group of its outputs, so lineage stays in order too.
    steps = started.recorder("stored.fifo").groups(ObjectType.INGESTION_STEP)
    assert sorted(steps) == sorted(stations)


def test_a_repeated_deduplication_id_is_delivered_once(pipeline: Factory) -> None:
    started = pipeline(two_stages())
    twice = reading("north", 0)
    started.publish("readings.fifo", twice, group_id="north", deduplication_id="reading-0")
    started.publish("readings.fifo", twice, group_id="north", deduplication_id="reading-0")
    started.publish("readings.fifo", reading("north", 1), group_id="north")

    stored = started.recorder("stored.fifo")
    # seq 1 comes after seq 0 in the group: once it is there, a duplicate would be too.
    stored.wait_for(1, lambda m: m.attributes.get("seq") == "1", timeout_s=30)
    data = [m for m in stored.messages if m.objectType is ObjectType.RAW_CONTENT]
    assert [seq(m) for m in data] == [0, 1]


def test_a_failing_message_holds_back_only_its_group_until_it_is_dead_lettered(
    pipeline: Factory,
) -> None:
    spec = two_stages(first={"FAIL_SEQ": 2})
    spec["components"]["first"]["max_receive_count"] = 3
    spec["components"]["first"]["visibility_timeout"] = 1
    started = pipeline(spec)
    publish_readings(started, 6)

    stored = started.recorder("stored.fifo")
    # Both seq 2 messages fail every time (FAIL_SEQ): each holds back its own group until
    # it is dead-lettered after three receives; the rest then go on, still in order.
    stored.wait_for(10, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60)
    groups = stored.assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert [seq(m) for m in groups["north"]] == [0, 1, 3, 4, 5]
    assert [seq(m) for m in groups["south"]] == [0, 1, 3, 4, 5]
    dead = _drain(started.resources.components["first"].dead_letter_queue_url)
    assert sorted(m["MessageAttributes"]["seq"]["StringValue"] for m in dead) == ["2", "2"]
    assert {m["Attributes"]["MessageGroupId"] for m in dead} == {"north", "south"}


def test_a_large_payload_goes_through_s3_on_a_fifo_topic(pipeline: Factory) -> None:
    started = pipeline(two_stages())
    big = "x" * 300_000  # over SNS's 256 KiB: offloaded, the pointer travels in the group
    started.publish("readings.fifo", reading("north", 0, big), group_id="north")
    started.publish("readings.fifo", reading("north", 1), group_id="north")

    stored = started.recorder("stored.fifo")
    stored.wait_for(2, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=30)
    data = stored.assert_order_per_group(seq, ObjectType.RAW_CONTENT)["north"]
    assert [len(str(m.body)) for m in data] == [300_000, len("north reading 1")]


def test_a_missing_or_overlong_group_id_is_refused_at_send_time(pipeline: Factory) -> None:
    started = pipeline(two_stages(), run="none")
    with pytest.raises(FifoIdError, match="needs a message group id"):
        started.publish("readings.fifo", reading("north", 0))
    with pytest.raises(FifoIdError, match="129 characters; AWS takes at most 128"):
        started.send("first", reading("north", 0), group_id="g" * 129)


def test_a_component_choosing_an_overlong_group_dead_letters_its_messages_with_the_reason(
    pipeline: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    spec = two_stages()
    spec["components"]["second"]["entrypoint"] = "tests.e2e.fifo_components:overlong_group"
    spec["components"]["second"]["max_receive_count"] = 1
    started = pipeline(spec)
    started.publish("readings.fifo", reading("north", 0), group_id="north")

    url = started.resources.components["second"].dead_letter_queue_url
    dead = wait_until(lambda: _drain(url) or None, 30, what="the message in the DLQ")
    assert dead[0]["MessageAttributes"]["seq"]["StringValue"] == "0"
    assert "AWS takes at most 128" in caplog.text


def _drain(queue_url: str | None) -> list[dict[str, Any]]:
    assert queue_url is not None
    return receive_all(queue_url)


def test_a_fifo_dead_letter_queue_is_redriven_in_group_order(pipeline: Factory) -> None:
    started = pipeline(two_stages(), run="none")
    first = started.resources.components["first"]
    assert first.dead_letter_queue_url is not None and first.queue_url is not None
    assert first.dead_letter_queue_url.endswith("first-in-dlq.fifo")
    for number in range(4):
        send_message(first.dead_letter_queue_url, reading("north", number), fifo=FifoIds("north"))

    result = redrive(first.dead_letter_queue_url, to=first.queue_url)

    assert result.count == 4 and result.left == {}
    back = _drain(first.queue_url)
    assert [m["MessageAttributes"]["seq"]["StringValue"] for m in back] == ["0", "1", "2", "3"]
    assert {m["Attributes"]["MessageGroupId"] for m in back} == {"north"}


def test_a_message_without_a_group_is_not_redriven_into_a_fifo_queue(pipeline: Factory) -> None:
    spec = two_stages()
    spec["components"]["plain"] = {
        "type": "sink",
        "entrypoint": "tests.e2e.fifo_components:inherit_group",
        "subscribe": [{"topic": "stored.fifo"}],
    }
    started = pipeline(spec, run="none")
    plain_dlq = started.resources.components["plain"].dead_letter_queue_url
    fifo_queue = started.resources.components["first"].queue_url
    assert plain_dlq is not None and fifo_queue is not None
    message_id = send_message(plain_dlq, reading("north", 0))

    result = redrive(plain_dlq, to=fifo_queue)

    assert result.count == 0
    assert "has no message group" in result.left[message_id]


def test_capture_and_replay_keep_groups_and_order(pipeline: Factory, tmp_path: Path) -> None:
    started = pipeline(two_stages(), run="none")
    path = tmp_path / "checked.jsonl"
    target = Target("topic", "checked.fifo", started.topic_arn("checked.fifo"))
    with CaptureWriter(path) as writer:
        ready = threading.Event()
        capturing = threading.Thread(
            target=capture,
            args=(target, writer, StopWhen(count=6)),
            kwargs={"on_ready": ready.set},
        )
        capturing.start()
        assert ready.wait(30), "the capture's tap was never subscribed"
        for number in range(3):
            for station in ("north", "south"):
                started.publish("checked.fifo", reading(station, number), group_id=station)
        capturing.join(timeout=30)
    assert not capturing.is_alive()

    first = started.resources.components["first"]
    assert first.queue_url is not None
    queue = Target("queue", "first-in.fifo", first.queue_url)
    report = replay(path, queue)

    assert report.sent == 6
    back = _drain(first.queue_url) + _drain(first.queue_url)
    by_group: dict[str, list[str]] = {}
    for message in back:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(
            message["MessageAttributes"]["seq"]["StringValue"]
        )
    assert by_group == {"north": ["0", "1", "2"], "south": ["0", "1", "2"]}
    with pytest.raises(ReplayError, match="--group-id applies only to FIFO targets"):
        replay(path, Target("topic", "x", "arn:aws:sns:us-east-1:000000000000:x"), group_id="g")


def test_pylon_send_takes_a_group_and_refuses_a_fifo_target_without_one(pipeline: Factory) -> None:
    started = pipeline(two_stages(), run="none")
    queue = started.resources.components["first"].queue_url
    assert queue is not None
    endpoint = ["--endpoint", started.endpoint.endpoint_url]
    send = ["send", queue, "--body", "hello", "-a", "seq=0", *endpoint]

    missing = CliRunner().invoke(app, send)
    sent = CliRunner().invoke(app, [*send, "--group-id", "north", "--dedup-id", "hello-0"])

    assert missing.exit_code == 1
    message = " ".join(missing.output.split())  # rich wraps long lines
    assert "needs a message group id, and none was given (give one with --group-id)" in message
    assert sent.exit_code == 0, sent.output
    (received,) = _drain(queue)
    assert received["Attributes"]["MessageGroupId"] == "north"
    assert received["Attributes"]["MessageDeduplicationId"] == "hello-0"


@pytest.mark.parametrize("run", ["inprocess", "processes"])
def test_in_lambda_mode_a_failing_record_holds_back_only_its_group(
    pipeline: Factory, run: str
) -> None:
    # processes: deployed into the emulator's Lambda behind its own event source mapping;
    # inprocess: the harness's mapping loop calls the handler. batch_size 1: with more, the
    # records behind a failing one in its batch are received (and counted) with each of
    # its retries, and dead-lettered with it, on AWS too (the spec warns).
    spec = two_stages(first={"FAIL_SEQ": 2})
    spec["components"]["first"]["batch_size"] = 1
    spec["components"]["first"] |= {
        "mode": "lambda",
        "max_receive_count": 3,
        "visibility_timeout": 6,
    }
    started = pipeline(spec, run=run)
    publish_readings(started, 5)

    stored = started.recorder("stored.fifo")
    stored.wait_for(8, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=120)
    groups = stored.assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert {group: [seq(m) for m in messages] for group, messages in groups.items()} == {
        "north": [0, 1, 3, 4],
        "south": [0, 1, 3, 4],
    }


def test_lineage_is_recorded_for_a_fifo_pipeline(pipeline: Factory) -> None:
    # The recorder's standard queue subscribes to the FIFO topics (order does not matter
    # to it): every step still reaches the lineage table.
    spec = two_stages()
    spec["lineage"] = {"table": "lineage"}
    started = pipeline(spec)
    started.publish("readings.fifo", reading("north", 0), group_id="north")

    (output,) = started.recorder("stored.fifo").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert output.ingestionId is not None
    chain = started.lineage().wait_for_chain(output.ingestionId, 30)
    assert chain.artifact_names == ["first", "second"]

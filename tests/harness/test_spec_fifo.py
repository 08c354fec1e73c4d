"""FIFO in the spec and at send time, as pure logic: `.fifo` names, FIFO DLQs, the
subscriptions AWS refuses, and the ids a FIFO target needs."""

from __future__ import annotations

from typing import Any

import pytest

from harness.messaging.sending import FifoIdError, FifoIds, with_fifo_ids
from harness.spec import SpecError, spec_from_dict
from pylon.wire import WireMessage


def spec(**component: Any) -> dict[str, Any]:
    return {
        "name": "fifo",
        "topics": ["in.fifo", "plain"],
        "components": {
            "stage": {"type": "pipeline", "entrypoint": "m:f", "subscribe": ["in.fifo"]} | component
        },
    }


def test_fifo_true_names_the_queue_and_its_dead_letter_queue() -> None:
    stage = spec_from_dict(spec(fifo=True)).components["stage"]
    assert stage.fifo
    assert stage.input_queue == "stage-in.fifo"
    assert stage.dead_letter_queue == "stage-in-dlq.fifo"


def test_a_queue_named_fifo_is_fifo_and_prefixing_keeps_the_suffix() -> None:
    parsed = spec_from_dict(spec(input_queue="orders.fifo", output_topic="out.fifo"))
    stage = parsed.with_prefix("t1-").components["stage"]
    assert stage.fifo and stage.input_queue == "t1-orders.fifo"
    assert stage.dead_letter_queue == "t1-orders-dlq.fifo"
    assert stage.output_topic == "t1-out.fifo"


def test_a_fifo_queue_cannot_subscribe_to_a_standard_topic() -> None:
    with pytest.raises(
        SpecError,
        match=r"stage.subscribe\[0\].topic: the FIFO queue 'stage-in.fifo' cannot subscribe to the standard topic 'plain': AWS refuses it",
    ):
        spec_from_dict(spec(fifo=True, subscribe=["plain"]))


def test_a_fifo_topic_feeding_a_standard_queue_is_a_warning_about_order() -> None:
    parsed = spec_from_dict(spec())
    (warning,) = parsed.warnings()
    assert "FIFO topic 'in.fifo' feeds the standard queue 'stage-in'" in warning
    assert "order per message group is lost" in warning
    assert spec_from_dict(spec(fifo=True)).warnings() == []


@pytest.mark.parametrize(
    "component, problem",
    [
        ({"fifo": True, "input_queue": "orders"}, "queue name must end in .fifo"),
        ({"content_based_deduplication": True}, "only a FIFO queue de-duplicates"),
        ({"fifo": True, "mode": "lambda", "batch_window": 5}, "must be 0 for a FIFO queue"),
        ({"fifo": "yes"}, "fifo: must be true or false"),
        ({"input_queue": "a.fifo.fifo"}, "a FIFO one ending in .fifo"),
    ],
)
def test_bad_fifo_settings_name_the_key(component: dict[str, Any], problem: str) -> None:
    with pytest.raises(SpecError, match=problem):
        spec_from_dict(spec(**component))


def test_topics_may_turn_on_content_based_deduplication_only_when_fifo() -> None:
    data = spec(fifo=True)
    data["topics"] = [{"name": "in.fifo", "content_based_deduplication": True}, "plain"]
    assert spec_from_dict(data).deduplicated_topics == {"in.fifo"}
    data["topics"] = [{"name": "plain", "content_based_deduplication": True}, "in.fifo"]
    with pytest.raises(
        SpecError, match=r"topics\[0\].content_based_deduplication: only a FIFO topic"
    ):
        spec_from_dict(data)


def test_a_source_has_no_queue_to_make_fifo() -> None:
    data = {
        "name": "s",
        "components": {"src": {"type": "source", "entrypoint": "m:f", "fifo": True}},
    }
    with pytest.raises(SpecError, match="a source has no input queue to make FIFO"):
        spec_from_dict(data)


# ---------------------------------------------------------------- ids at send time


def never_asked() -> bool:
    raise AssertionError("the content-based setting was not needed")


def test_a_fifo_target_gets_the_group_and_a_fresh_deduplication_id() -> None:
    one = with_fifo_ids(WireMessage("b"), "q.fifo", FifoIds("g"), lambda: False)
    two = with_fifo_ids(WireMessage("b"), "q.fifo", FifoIds("g"), lambda: False)
    assert (
        one.group_id == "g"
        and one.deduplication_id
        and one.deduplication_id != two.deduplication_id
    )


def test_content_based_deduplication_is_left_to_the_target() -> None:
    wire = with_fifo_ids(WireMessage("b"), "q.fifo", FifoIds("g"), lambda: True)
    assert wire.deduplication_id is None


def test_a_given_deduplication_id_is_kept() -> None:
    wire = with_fifo_ids(
        WireMessage("b"), "arn:aws:sns:r:1:t.fifo", FifoIds("g", "d-1"), never_asked
    )
    assert (wire.group_id, wire.deduplication_id) == ("g", "d-1")


@pytest.mark.parametrize(
    "target, ids, problem",
    [
        (
            "q.fifo",
            FifoIds(),
            "needs a message group id, and none was given \\(give one with --group-id\\)",
        ),
        ("q.fifo", FifoIds("g" * 129), "AWS takes at most 128"),
        ("q.fifo", FifoIds("g", "d" * 129), "de-duplication id is 1 to 128 characters"),
        (
            "http://127.0.0.1:4566/000000000000/plain",
            FifoIds("g"),
            "plain is a standard queue or topic",
        ),
    ],
)
def test_wrong_ids_are_refused_before_sending(target: str, ids: FifoIds, problem: str) -> None:
    with pytest.raises(FifoIdError, match=problem):
        with_fifo_ids(WireMessage("b"), target, ids, never_asked)


def test_a_standard_target_without_ids_is_untouched() -> None:
    wire = WireMessage("b")
    assert with_fifo_ids(wire, "plain", None, never_asked) is wire


def test_a_fifo_lambda_with_batches_is_warned_that_followers_share_a_failures_fate() -> None:
    (warning,) = spec_from_dict(spec(fifo=True, mode="lambda")).warnings()
    assert "components.stage.batch_size: 10 records per batch from a FIFO queue" in warning
    assert spec_from_dict(spec(fifo=True, mode="lambda", batch_size=1)).warnings() == []

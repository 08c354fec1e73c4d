"""FIFO in the runtime, as pure logic: which group an output goes to, its de-duplication
id, a failure holding back the rest of its group (worker rounds and Lambda's
batchItemFailures), and the one-at-a-time receives after a failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import pylon
from pylon import BaseMessage, ObjectType
from pylon.codec import inbound_from_lambda_record, inbound_from_sqs, sns_entry, sqs_entry
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import PublishError
from pylon.fifo import FifoHook, check_group_id, is_fifo
from pylon.group_order import GroupGate, HeldBackError, ReceiveSize, publish_in_group_order
from pylon.hooks import Hooks
from pylon.lambda_batch import handle_sqs_event
from pylon.lineage import LineageHook
from pylon.processing import MessagePath
from pylon.wire import InboundMessage, WireMessage

FIFO_TOPIC = "arn:aws:sns:us-east-1:000000000000:out.fifo"


class Recording:
    """A Publisher (Pylon's own protocol) that keeps what it was given, refusing the
    entries whose body is in `failing`."""

    def __init__(self, failing: Sequence[str] = ()) -> None:
        self.failing = set(failing)
        self.requests: list[list[WireMessage]] = []

    def publish_each(self, messages: Sequence[WireMessage]) -> dict[int, str]:
        self.requests.append(list(messages))
        return {i: "InternalError" for i, m in enumerate(messages) if m.body in self.failing}

    @property
    def bodies(self) -> list[str]:
        return [m.body for request in self.requests for m in request if m.body != "step"]


def passthrough(message: BaseMessage | None, config: Any) -> BaseMessage:
    assert message is not None
    if message.body == "task fails":
        raise RuntimeError("task failed")
    return BaseMessage(body=message.body, attributes=dict(message.attributes))


def fifo_path(publisher: Recording, **hook: Any) -> MessagePath:
    config = ComponentConfig(
        ComponentKind.PIPELINE, {"INPUT_QUEUE_NAME": "in.fifo", "OUTPUT_TOPIC_ARN": FIFO_TOPIC}
    )
    return MessagePath(
        passthrough,
        "stage",
        config,
        None,  # type: ignore[arg-type]  # inline bodies: S3 is never asked
        publisher,
        Hooks([FifoHook("stage", **hook), LineageHook()]),
    )


def inbound(message_id: str, body: str, group: str | None, **attributes: str) -> InboundMessage:
    return InboundMessage(
        message_id, f"r-{message_id}", body, {"objectType": "rawContent", **attributes}, 1, group
    )


# ---------------------------------------------------------------- group and de-duplication ids


def test_outputs_inherit_their_input_group_and_get_deterministic_deduplication_ids() -> None:
    publisher = Recording()
    path = fifo_path(publisher)

    first = path.run(inbound("m1", "hello", "north"))
    again = path.run(inbound("m1", "hello", "north"))  # redelivered: same ids

    groups = [(w.group_id, w.deduplication_id) for w in first.wires]
    step = first.ingestion_step
    assert step is not None
    assert groups == [("north", f"{step.ingestionId}-0"), ("north", f"{step.ingestionId}-1")]
    assert [(w.group_id, w.deduplication_id) for w in again.wires] == groups


def test_message_group_function_and_attribute_choose_the_group() -> None:
    by_function = fifo_path(Recording(), group_of=lambda m: m.attributes["station"])
    by_attribute = fifo_path(Recording(), group_attribute="station")

    for path in (by_function, by_attribute):
        execution = path.run(inbound("m1", "x", "input-group", station="s-7"))
        assert [w.group_id for w in execution.wires] == ["s-7", "s-7"]  # the step follows


def test_a_source_run_without_an_input_group_uses_the_component_name() -> None:
    path = fifo_path(Recording())
    assert path.config is not None
    hook = FifoHook("my-source")
    execution = path.prepare(inbound("m1", "x", None))
    hook.before_publish(execution)
    assert {w.group_id for w in execution.wires} == {"my-source"}
    path.finish_unpublished(execution, RuntimeError("not published in this test"))


def test_a_missing_group_attribute_fails_the_message_naming_it() -> None:
    path = fifo_path(Recording(), group_attribute="station")
    with pytest.raises(PublishError, match=r"MESSAGE_GROUP_ATTRIBUTE is 'station' but the output"):
        path.run(inbound("m1", "x", None, region="eu"))


@pytest.mark.parametrize(
    "group, problem",
    [
        (None, "needs a message group id"),
        ("", "needs a message group id"),
        ("g" * 129, "is 129 characters; AWS takes at most 128"),
        ("has space", "only letters, digits and ASCII punctuation"),
        ("ünïcode", "only letters, digits and ASCII punctuation"),
    ],
)
def test_group_ids_aws_would_refuse_are_refused_saying_why(group: str | None, problem: str) -> None:
    with pytest.raises(PublishError, match=problem):
        check_group_id(group, "here")


def test_the_longest_group_id_and_all_punctuation_are_accepted() -> None:
    assert check_group_id("g" * 128, "here") == "g" * 128
    assert check_group_id("a!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~z", "here")


def test_fifo_names_arns_and_urls() -> None:
    assert is_fifo("q.fifo") and is_fifo(FIFO_TOPIC) and is_fifo("http://h/000/q.fifo/")
    assert not is_fifo("q") and not is_fifo("fifo")


def test_entries_carry_fifo_ids_only_when_set() -> None:
    plain, fifo = WireMessage("b"), WireMessage("b", {}, "g", "d")
    assert "MessageGroupId" not in sns_entry(plain, "0") | sqs_entry(plain, "0")
    assert sns_entry(fifo, "0")["MessageGroupId"] == sqs_entry(fifo, "0")["MessageGroupId"] == "g"
    assert sns_entry(fifo, "0")["MessageDeduplicationId"] == "d"


def test_received_messages_carry_their_group() -> None:
    raw: Any = {
        "MessageId": "m", "ReceiptHandle": "r", "Body": "b",
        "Attributes": {"MessageGroupId": "north", "ApproximateReceiveCount": "2"},
    }  # fmt: skip
    record: Any = {
        "messageId": "m", "receiptHandle": "r", "body": "b",
        "attributes": {"MessageGroupId": "south"},
    }  # fmt: skip
    assert inbound_from_sqs(raw).group_id == "north"
    assert inbound_from_lambda_record(record).group_id == "south"
    del raw["Attributes"]["MessageGroupId"]
    assert inbound_from_sqs(raw).group_id is None


# ---------------------------------------------------------------- group order


def test_a_failed_publish_holds_back_the_rest_of_its_group_only() -> None:
    publisher = Recording(failing=["a1"])
    path = fifo_path(publisher)
    executions = [
        path.prepare(inbound(body, body, body[0])) for body in ("a0", "b0", "a1", "a2", "b1", "c0")
    ]

    errors = publish_in_group_order(
        path, executions, GroupGate(["a0", "b0", "a1", "a2", "b1", "c0"])
    )

    outcome = {e.inbound.message_id: type(err).__name__ for e, err in zip(executions, errors, strict=True) if e.inbound}  # fmt: skip
    assert outcome == {
        "a0": "NoneType", "b0": "NoneType", "a1": "PublishError",
        "a2": "HeldBackError", "b1": "NoneType", "c0": "NoneType",
    }  # fmt: skip
    # Round by round: never two messages of one group in a request.
    bodies = [[w.body for w in r if w.body.startswith(("a", "b", "c"))] for r in publisher.requests]
    assert bodies == [["a0", "b0", "c0"], ["a1", "b1"]]
    assert "a2" not in publisher.bodies


def test_a_standard_batch_is_published_in_one_request() -> None:
    publisher = Recording()
    path = fifo_path(publisher)
    executions = [path.prepare(inbound(str(n), f"m{n}", None)) for n in range(4)]

    gate = GroupGate([str(n) for n in range(4)])
    assert publish_in_group_order(path, executions, gate) == [None] * 4
    assert len(publisher.requests) == 1


def lambda_record(message_id: str, body: str, group: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"r-{message_id}",
        "body": body,
        "eventSource": "aws:sqs",
        "attributes": {"MessageGroupId": group, "ApproximateReceiveCount": "1"},
        "messageAttributes": {"objectType": {"dataType": "String", "stringValue": "rawContent"}},
    }


def test_lambda_reports_a_failed_record_and_every_later_record_of_its_group() -> None:
    publisher = Recording()
    path = fifo_path(publisher)
    records = [
        lambda_record("a0", "fine", "a"),
        lambda_record("a1", "task fails", "a"),
        lambda_record("b0", "fine", "b"),
        lambda_record("a2", "fine", "a"),
        lambda_record("b1", "fine", "b"),
    ]

    response = handle_sqs_event(path, {"Records": records})

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["a1", "a2"]
    assert publisher.bodies.count("fine") == 3  # a0, b0, b1


def test_lambda_reports_the_rest_of_a_group_whose_publish_failed() -> None:
    publisher = Recording(failing=["b-first"])
    path = fifo_path(publisher)
    records = [
        lambda_record("b0", "b-first", "b"),
        lambda_record("b1", "b-second", "b"),
        lambda_record("c0", "c-first", "c"),
    ]

    response = handle_sqs_event(path, {"Records": records})

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["b0", "b1"]
    assert "b-second" not in publisher.bodies and "c-first" in publisher.bodies


def test_the_gate_holds_back_only_later_messages_and_names_the_failed_one() -> None:
    gate = GroupGate(["m-0", "m-1", "m-2", "m-3", "m-4"])
    gate.failed("north", "m-1")
    held = gate.held_back("north", "m-2")
    assert isinstance(held, HeldBackError)
    assert "message m-1 of its group 'north' failed" in str(held)
    assert gate.held_back("north", "m-0") is None  # before the failure: goes on
    assert gate.held_back("south", "m-3") is None and gate.held_back(None, "m-4") is None


# ---------------------------------------------------------------- receive size


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_after_a_fifo_failure_one_message_at_a_time_until_the_window_passes() -> None:
    clock = Clock()
    size = ReceiveSize(True, 10, lambda: 60.0, clock)
    assert size.next() == 10
    size.failed()
    clock.now += 59
    assert size.next() == 1
    size.failed()  # a new failure renews the window
    clock.now += 59
    assert size.next() == 1
    clock.now += 2
    assert size.next() == 10


def test_a_standard_queue_always_receives_its_max_messages() -> None:
    size = ReceiveSize(False, 10, lambda: 60.0, Clock())
    size.failed()
    assert size.next() == 10


# ---------------------------------------------------------------- the decorator


def test_the_decorator_takes_message_group_and_still_calls_the_function() -> None:
    @pylon.PipelineComponent(message_group=lambda m: "g")
    def grouped(message: BaseMessage | None, config: Any) -> str:
        return "called"

    assert isinstance(grouped, pylon.PipelineComponent)
    assert grouped.task_name == "grouped" and grouped.message_group is not None
    assert grouped(None, {}) == "called"
    assert grouped.__doc__ is None and grouped.__name__ == "grouped"  # type: ignore[attr-defined]


def test_the_decorator_refuses_a_non_function() -> None:
    with pytest.raises(TypeError, match="decorates a function; got int"):
        pylon.PipelineComponent(message_group=lambda m: "g")(3)  # type: ignore[arg-type]


def test_message_group_attribute_must_be_a_name() -> None:
    config = ComponentConfig(ComponentKind.PIPELINE, {"MESSAGE_GROUP_ATTRIBUTE": 7})
    with pytest.raises(pylon.ConfigError, match="MESSAGE_GROUP_ATTRIBUTE must be an attribute"):
        config.check_settings()
    assert ObjectType.RAW_CONTENT  # the enum the module's messages use

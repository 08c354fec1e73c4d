"""`lambda_handler` over real SQS event shapes: partial batch responses."""

from __future__ import annotations

import pytest

import pylon
from pylon import ObjectType
from pylon.config import ComponentKind
from tests.conftest import Wiring, load_event


@pylon.PipelineComponent
def shout(message, config):  # type: ignore[no-untyped-def]
    if message.body == "fail me":
        raise ValueError("this record is poison")
    message.body = message.body.upper()
    return pylon.result([message], {"shouted": True})


def test_failed_record_is_reported_alone(wiring: Wiring) -> None:
    shout.configure(wiring.config(ComponentKind.PIPELINE))
    event = load_event("sqs_event.json")

    response = shout.lambda_handler(event, None)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]
    }
    bodies = sorted(m.body for m in wiring.collect(4) if m.objectType is ObjectType.RAW_CONTENT)
    assert bodies == ["FIRST RECORD", "THIRD RECORD"]


def test_lineage_parent_comes_from_the_record_attribute(wiring: Wiring) -> None:
    shout.configure(wiring.config(ComponentKind.PIPELINE))
    event = load_event("sqs_event.json")
    event["Records"] = event["Records"][:1]

    shout.lambda_handler(event, None)

    steps = [m.body for m in wiring.collect(2) if m.objectType is ObjectType.INGESTION_STEP]
    assert steps[0].parentIngestionId == "parent-1"  # type: ignore[union-attr]


def test_record_with_a_bad_attribute_is_reported_not_raised(wiring: Wiring) -> None:
    shout.configure(wiring.config(ComponentKind.PIPELINE))
    event = load_event("sqs_event.json")
    event["Records"][0]["messageAttributes"]["objectType"]["stringValue"] = "bogus"

    response = shout.lambda_handler(event, None)

    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed == {event["Records"][0]["messageId"], event["Records"][1]["messageId"]}


def test_record_without_message_id_fails_the_whole_invocation(wiring: Wiring) -> None:
    shout.configure(wiring.config(ComponentKind.PIPELINE))
    event = load_event("sqs_event.json")
    del event["Records"][2]["messageId"]

    with pytest.raises(pylon.MessageDecodeError, match="no messageId"):
        shout.lambda_handler(event, None)


def test_direct_invocation_becomes_a_lambda_event_message(wiring: Wiring) -> None:
    seen = []

    @pylon.PipelineComponent
    def record(message, config):  # type: ignore[no-untyped-def]
        seen.append(message)
        return []

    record.configure(wiring.config(ComponentKind.PIPELINE))

    class Context:
        aws_request_id = "req-1"

    response = record.lambda_handler({"detail": {"bucket": "b"}}, Context())

    assert seen[0].objectType is ObjectType.LAMBDA_EVENT
    assert seen[0].body.event == {"detail": {"bucket": "b"}}
    assert response["ingestionId"]

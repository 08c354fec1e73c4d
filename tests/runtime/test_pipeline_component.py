"""The DESIGN.md example, end to end against the emulator."""

from __future__ import annotations

import hashlib

import pytest

import pylon
from pylon import BaseMessage, ObjectType
from pylon.config import ComponentKind
from tests.conftest import Wiring


@pylon.PipelineComponent
def pipelineTask(message, config):  # type: ignore[no-untyped-def]
    message.body = "Hello pylon!"
    return pylon.result([message], {"task": "example transform task"})


def lambda_entrypoint(event, context):  # type: ignore[no-untyped-def]
    return pipelineTask.lambda_handler(event, context)


def test_design_example_transforms_publishes_lineage_and_deletes_input(wiring: Wiring) -> None:
    pipelineTask.configure(wiring.config(ComponentKind.PIPELINE))
    wiring.send(BaseMessage(body="original", ingestionId="parent-123"))

    outcome = pipelineTask.runOnce()

    assert len(outcome.succeeded) == 1 and outcome.failed == []
    published = wiring.collect(2)
    by_type = {m.objectType: m for m in published}
    output = by_type[ObjectType.RAW_CONTENT]
    step_message = by_type[ObjectType.INGESTION_STEP]
    step = step_message.body
    assert output.body == "Hello pylon!"
    assert isinstance(step, pylon.IngestionStep)
    assert step.parentIngestionId == "parent-123"
    assert step.metadata == {"task": "example transform task"}
    assert step.artifactName == "test-component" and step.artifactVersion == "1.2.3"
    assert output.ingestionId == step.ingestionId == step_message.ingestionId
    assert wiring.visible_input_count() == 0


def test_the_same_input_processed_twice_gets_the_same_ingestion_id(wiring: Wiring) -> None:
    from pylon.lineage import ingestion_id_for

    first = ingestion_id_for("component", "message-1")
    assert first == ingestion_id_for("component", "message-1")
    assert first != ingestion_id_for("other-component", "message-1")
    assert first != ingestion_id_for("component", "message-2")


@pytest.mark.parametrize("message_id", ["message-1", "é/ü 漢", "x" * 300, ""])
def test_a_derived_ingestion_id_is_the_rfc_4122_uuid5_of_component_and_message(
    message_id: str,
) -> None:
    """Ids already stored downstream must keep matching: the derivation never changes."""
    import uuid

    from pylon.lineage import LINEAGE_NAMESPACE, ingestion_id_for

    expected = uuid.uuid5(LINEAGE_NAMESPACE, f"component/{message_id}")
    assert ingestion_id_for("component", message_id) == str(expected)


def test_derived_ingestion_ids_match_uuid5_for_every_hash_digit() -> None:
    """The id is written from the hash's hex digits: every digit under the version and
    the variant bits must come out as uuid5 writes it."""
    import uuid

    from pylon.lineage import LINEAGE_NAMESPACE, ingestion_id_for

    hash_digits = set()
    for index in range(400):
        name = f"component/m-{index}"
        hash_digits.add(hashlib.sha1(LINEAGE_NAMESPACE.bytes + name.encode()).hexdigest()[16])
        assert ingestion_id_for("component", f"m-{index}") == str(
            uuid.uuid5(LINEAGE_NAMESPACE, name)
        )
    assert len(hash_digits) == 16  # every digit the variant is derived from occurred


def test_failing_task_leaves_the_message_in_the_queue(wiring: Wiring) -> None:
    @pylon.PipelineComponent
    def broken(message, config):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    broken.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = wiring.send(BaseMessage(body="x"))

    outcome = broken.runOnce()

    assert outcome.failed == [message_id]
    assert wiring.visible_input_count() == 1


def test_duplicate_deliveries_in_one_batch_do_not_fail_the_delete(wiring: Wiring) -> None:
    pipelineTask.configure(wiring.config(ComponentKind.PIPELINE))
    wiring.send(BaseMessage(body="once"))
    raw = wiring.input_queue.receive(10, wait_seconds=1)
    assert len(raw) == 1

    from pylon.shutdown import StopSignal
    from pylon.worker import QueueWorker

    runtime = pipelineTask.runtime
    assert runtime.queue is not None
    outcome = QueueWorker(runtime.path, runtime.queue).process_batch(raw + raw, StopSignal())

    assert len(outcome.succeeded) == 2
    assert wiring.visible_input_count() == 0

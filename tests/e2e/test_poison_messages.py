"""A message that always fails: redelivered maxReceiveCount times, then dead-lettered with
its reason in the log, never holding up the others; redriven once the bug is fixed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import boto3
import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.pipeline.local_pipeline import LocalPipeline
from harness.run.inprocess import component_config
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from tests.e2e.poison_components import bug_fixed, picky

MAX_RECEIVE_COUNT = 3
SPEC = {
    "name": "poison",
    "components": {
        "picky": {
            "type": "pipeline",
            "entrypoint": "tests.e2e.poison_components:picky",
            "max_receive_count": MAX_RECEIVE_COUNT,
            "visibility_timeout": 1,
            "config": {"WAIT_TIME_SECONDS": 1},
        }
    },
}


@pytest.fixture
def pipeline(pylon_pipeline: Callable[..., LocalPipeline]) -> Iterator[LocalPipeline]:
    """The provisioned pipeline, with `picky` driven by the test through runOnce."""
    bug_fixed.clear()
    started = pylon_pipeline(SPEC, run="none")
    picky.configure(component_config(started.resources.components["picky"]))
    yield started
    bug_fixed.clear()


def dead_letters(pipeline: LocalPipeline) -> list[dict]:  # type: ignore[type-arg]
    url = pipeline.resources.components["picky"].dead_letter_queue_url
    response = boto3.client("sqs").receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def test_poison_is_dead_lettered_after_max_receive_count_and_never_blocks_the_rest(
    pipeline: LocalPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    poison_id = pipeline.send("picky", BaseMessage(body="poison"))
    good = [pipeline.send("picky", BaseMessage(body=f"good-{i}")) for i in range(9)]

    with caplog.at_level(logging.ERROR, logger="pylon.worker"):
        first = picky.runOnce()
        # The same receive: the poison fails, the other nine go through.
        assert first.failed == [poison_id] and sorted(first.succeeded) == sorted(good)
        [dead] = wait_until(
            lambda: picky.runOnce() and dead_letters(pipeline), 30, what="a dead letter"
        )

    assert dead["MessageId"] == poison_id and dead["Body"] == "poison"
    # maxReceiveCount receives by the component, plus the test's own peek at the DLQ.
    assert dead["Attributes"]["ApproximateReceiveCount"] == str(MAX_RECEIVE_COUNT + 1)
    failures = [r.getMessage() for r in caplog.records if poison_id in r.getMessage()]
    assert len(failures) == MAX_RECEIVE_COUNT
    for receive, line in enumerate(failures, start=1):
        assert (
            f"message {poison_id} failed (receive {receive}): ValueError: cannot digest poison (bug 123)"
            in line
        )
        assert "moves to the dead-letter queue after maxReceiveCount" in line
    outputs = pipeline.recorder("picky-out").wait_for(
        9, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert sorted(m.body for m in outputs) == sorted(f"GOOD-{i}" for i in range(9))


def test_redrive_after_the_fix_delivers_the_poison_message(pipeline: LocalPipeline) -> None:
    poison_id = pipeline.send("picky", BaseMessage(body="poison"))
    wait_until(
        lambda: picky.runOnce() is not None and dead_letters(pipeline), 30, what="a dead letter"
    )
    dlq_name = f"{pipeline.resources.components['picky'].spec.input_queue}-dlq"

    bug_fixed.set()
    result = CliRunner().invoke(
        app, ["dlq", "redrive", dlq_name, "--endpoint", pipeline.endpoint.endpoint_url]
    )
    assert result.exit_code == 0, result.output
    assert "moved 1 message(s)" in result.output
    outcome = wait_until(lambda: picky.runOnce().succeeded, 15, what="the redriven message")

    assert len(outcome) == 1 and outcome != [poison_id]  # a new message, hence a new id
    [output] = pipeline.recorder("picky-out").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert output.body == "POISON"
    assert dead_letters(pipeline) == []

"""The FIFO proof: 5 groups x 200 messages through two FIFO stages, three processes per
stage, tasks failing at random: at the end every group is complete and in order, nothing
lost, nothing delivered twice."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import boto3

from harness.pipeline.local_pipeline import LocalPipeline
from harness.processes.output import LineSink
from harness.run.processes import ProcessRunner
from pylon import ObjectType
from pylon.aws.sns import SnsTopic
from pylon.codec import encode
from tests.e2e.test_fifo import reading, seq, two_stages

ROOT = Path(__file__).resolve().parents[2]
GROUPS = [f"station-{n}" for n in range(5)]
PER_GROUP = 200
PROCESSES_PER_STAGE = 3
FAILURE_RATE = 0.05


def test_five_groups_of_200_through_two_fifo_stages_with_three_processes_each(
    pylon_pipeline: Callable[..., LocalPipeline],
) -> None:
    failing = {"FAILURE_RATE": FAILURE_RATE}
    spec = two_stages(first=failing, second=failing)
    pipeline = pylon_pipeline(spec, run="processes")
    failures: list[str] = []
    sink: LineSink = lambda name, line: failures.append(line) if "failed (receive" in line else None  # noqa: E731
    components = list(pipeline.resources.components.values())
    started = time.monotonic()
    with ExitStack() as extra:
        # The pipeline runs one process per component; two more each make three.
        for _ in range(PROCESSES_PER_STAGE - 1):
            extra.enter_context(ProcessRunner(components, pipeline.endpoint, sink, ROOT))
        _publish_all(pipeline)
        stored = pipeline.recorder("stored.fifo")
        stored.wait_for(
            len(GROUPS) * PER_GROUP,
            lambda m: m.objectType is ObjectType.RAW_CONTENT,
            timeout_s=600,
        )
    elapsed = time.monotonic() - started

    groups = stored.assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert sorted(groups) == GROUPS
    for group, messages in groups.items():
        # In order (asserted above) and exactly 0..199: nothing lost, nothing twice.
        assert [seq(m) for m in messages] == list(range(PER_GROUP)), group
    # Random failures did happen (in the extra processes alone, whose lines we see).
    assert failures, "no injected failure was logged: the proof proved nothing"
    for component in components:
        assert _depth(component.dead_letter_queue_url) == 0, component.spec.name
    print(
        f"\nFIFO proof: {len(GROUPS)} groups x {PER_GROUP} through 2 stages x "
        f"{PROCESSES_PER_STAGE} processes in {elapsed:.1f} s; "
        f"{len(failures)}+ injected task failures; 0 lost, 0 duplicates, order kept per group"
    )


def _publish_all(pipeline: LocalPipeline) -> None:
    """Interleave the groups, ten messages per PublishBatch, in order within each group."""
    wires = [
        dataclasses.replace(
            encode(reading(group, number)), group_id=group, deduplication_id=f"{group}-{number}"
        )
        for number in range(PER_GROUP)
        for group in GROUPS
    ]
    SnsTopic(pipeline.topic_arn("readings.fifo"), boto3.client("sns")).publish(wires)


def _depth(queue_url: str | None) -> int:
    assert queue_url is not None
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])

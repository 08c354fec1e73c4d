"""Recorders under a long `pylon up`: drained all along, holding the last messages only,
counting every one (a tap left alone holds every message in the emulator)."""

from __future__ import annotations

from collections.abc import Callable

import boto3

from harness.pipeline.activity import DrainedRecorders, queue_depth
from harness.pipeline.local_pipeline import LocalPipeline
from harness.testing.recorder import TopicRecorder
from harness.testing.waiting import wait_until
from pylon import BaseMessage
from pylon.aws.sns import SnsTopic
from pylon.codec import encode

SPEC = {
    "name": "drained",
    "topics": ["events"],
    "components": {
        "sink": {"type": "sink", "entrypoint": "m:f", "subscribe": ["events"]},
    },
}


def publish(topic_arn: str, count: int) -> None:
    SnsTopic(topic_arn, boto3.client("sns")).publish(
        [encode(BaseMessage(body=f"event {n}")) for n in range(count)]
    )


def test_a_recorder_keeping_the_last_messages_still_counts_every_one(aws_env: object) -> None:
    topic = boto3.client("sns").create_topic(Name="kept")["TopicArn"]
    with TopicRecorder(topic, keep=5) as recorder:
        publish(topic, 25)

        def all_counted() -> bool:
            recorder.poll()
            return sum(recorder.counts.values()) == 25

        wait_until(all_counted, 15, what="25 messages counted")

        assert recorder.counts == {"rawContent": 25}
        assert len(recorder.messages) == len(recorder.raw) == 5


def test_drained_recorders_empty_the_taps_without_anyone_polling(
    pylon_pipeline: Callable[..., LocalPipeline],
) -> None:
    pipeline = pylon_pipeline(SPEC, run="none", recorder_keep=10)
    recorder = pipeline.recorder("events")
    tap = recorder.tap_queue_url

    with DrainedRecorders(pipeline, interval_s=0.2):
        publish(pipeline.topic_arn("events"), 40)
        wait_until(lambda: sum(recorder.counts.values()) == 40, 15, what="40 counted")
        wait_until(lambda: queue_depth(tap).visible == 0, 15, what="the tap drained")

    assert len(recorder.messages) == 10

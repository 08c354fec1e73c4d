"""Is a local pipeline still busy? Used by `pylon up --until-idle` and the summary."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.lifecycle import Periodic
from harness.pipeline.local_pipeline import LocalPipeline
from pylon.errors import PylonError

_DEPTH_ATTRIBUTES: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@dataclass(frozen=True)
class QueueDepth:
    name: str
    visible: int
    in_flight: int

    @property
    def total(self) -> int:
        """Messages in the queue, waiting or in flight."""
        return self.visible + self.in_flight


def queue_depth(url: str, session: boto3.session.Session | None = None) -> QueueDepth:
    """How many messages one queue holds (SQS's approximate counts)."""
    sqs = (session or boto3.session.Session()).client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_DEPTH_ATTRIBUTES)[
        "Attributes"
    ]
    return QueueDepth(
        url.rstrip("/").rsplit("/", 1)[-1],
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def queue_depths(
    pipeline: LocalPipeline, session: boto3.session.Session | None = None
) -> list[QueueDepth]:
    session = session or boto3.session.Session()
    return [
        dataclasses.replace(queue_depth(url, session), name=name)
        for name, url in pipeline.resources.queues.items()
    ]


def published_count(pipeline: LocalPipeline) -> int:
    """Everything the pipeline's topics published so far (the recorders drained first)."""
    for recorder in pipeline.recorders.values():
        recorder.poll()
    return sum(sum(r.counts.values()) for r in pipeline.recorders.values())


class DrainedRecorders(Periodic):
    """Polls a running pipeline's recorders every `interval_s` on a thread.

    A recorder's tap is a queue in the emulator: left alone for a long `pylon up`, it
    would hold every message ever published there (the soak found the emulator's memory
    growing that way). Recorders made with `keep` then hold only the latest messages.
    """

    thread_name = "recorders"

    def __init__(self, pipeline: LocalPipeline, interval_s: float = 2.0) -> None:
        super().__init__(interval_s)
        self._pipeline = pipeline

    def tick(self) -> None:
        for recorder in list(self._pipeline.recorders.values()):
            try:
                recorder.poll()
            except (ClientError, BotoCoreError, PylonError):
                continue  # the emulator restarting, a tap being replaced: next round


def wait_until_idle(
    pipeline: LocalPipeline,
    quiet_seconds: float,
    timeout_s: float = 300,
    still_running: Callable[[], bool] = lambda: True,
) -> bool:
    """Wait until no input queue holds work and nothing new was published for `quiet_seconds`.

    Returns False when `timeout_s` passed first (or `still_running` turned False).
    """
    deadline = time.monotonic() + timeout_s
    last_change, last_state = time.monotonic(), None
    while time.monotonic() < deadline and still_running():
        busy = any(
            d.visible or d.in_flight for d in queue_depths(pipeline) if not d.name.endswith("-dlq")
        )
        state = (busy, published_count(pipeline))
        if state != last_state:
            last_change, last_state = time.monotonic(), state
        if not busy and time.monotonic() - last_change >= quiet_seconds:
            return True
        time.sleep(0.2)
    return False

"""Is a local pipeline still busy? Used by `pylon up --until-idle` and the summary."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from harness.pipeline.local_pipeline import LocalPipeline

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
    return sum(len((r.poll() and r.messages) or r.messages) for r in pipeline.recorders.values())


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

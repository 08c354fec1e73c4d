"""Watching a running pipeline without changing it.

- every topic gets a tap (a temporary queue, raw, unfiltered): everything published;
- every input queue gets a mirror: a temporary queue subscribed to the same topics with
  the same filter policies and delivery, so SNS hands it exactly what it hands the
  queue. The inspector reads the mirror, never the queue: looking at a queue receives
  nothing from it (no receive count, no visibility change, nothing towards its DLQ);
- queue depths come from GetQueueAttributes, which changes nothing either.

Everything published is also appended to a capture file (the capture format), which
`pylon replay --from-step` reads. What the observer cannot see: messages sent straight
to a queue (`pylon send QUEUE`), which reach no topic.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.capture.format import CaptureWriter
from harness.capture.recording import capture_source, captured_message
from harness.inspector.store import MessageStore, Seen
from harness.lifecycle import Running
from harness.messaging.targets import Target
from harness.observe.taps import TopicTap
from harness.pipeline.activity import QueueDepth, queue_depth
from harness.provision import ProvisionedPipeline, subscription_attributes
from pylon.aws.clients import new_client
from pylon.aws.s3 import S3Store
from pylon.wire import SqsMessage

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.3
_DEPTH_SECONDS = 1.0
_FULL_BATCH = 10  # SQS's most per receive: a full batch means more may be waiting
_MAX_BATCHES_PER_ROUND = 100


@dataclass
class _Watch:
    where: str  # "topic" or "queue"
    name: str
    tap: TopicTap
    target: Target


@dataclass
class Depths:
    """The latest depth of every queue (and its DLQ), for the pipeline page."""

    by_queue: dict[str, QueueDepth] = field(default_factory=dict)
    updated_at: float = 0.0


class PipelineObserver(Running):
    def __init__(
        self,
        pipeline: ProvisionedPipeline,
        store: MessageStore,
        capture_path: Path | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.capture_path = capture_path
        self.depths = Depths()
        self._session = session or boto3.session.Session()
        self._s3 = S3Store(new_client("s3", self._session))
        self._watches: list[_Watch] = []
        self._writer: CaptureWriter | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.capture_path is not None:
            self._writer = CaptureWriter(self.capture_path)
        for name, arn in self.pipeline.topics.items():
            tap = TopicTap(arn, self._session)
            self._watches.append(_Watch("topic", name, tap, Target("topic", name, arn)))
        for component in self.pipeline.components.values():
            queue = component.spec.input_queue
            for subscription in component.spec.subscriptions if queue else ():
                arn = self.pipeline.topics[subscription.topic]
                mirror = TopicTap(arn, self._session, subscription_attributes(subscription))
                target = Target("queue", str(queue), component.queue_url or "")
                self._watches.append(_Watch("queue", str(queue), mirror, target))
        self._thread = threading.Thread(target=self._run, name="pylon-inspector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        for watch in self._watches:
            with suppress(ClientError, BotoCoreError):  # the emulator may be gone already
                watch.tap.close()
        self._watches.clear()
        if self._writer is not None:
            self._writer.close()

    def _run(self) -> None:
        depth_due = 0.0
        while not self._stop.is_set():
            arrived = 0
            try:
                arrived = self.poll()
                if time.monotonic() >= depth_due:
                    self.refresh_depths()
                    depth_due = time.monotonic() + _DEPTH_SECONDS
            except (ClientError, BotoCoreError) as error:
                logger.warning("inspector: reading the pipeline failed (%s); retrying", error)
                self._stop.wait(1)
            if not arrived:
                self._stop.wait(_POLL_SECONDS)

    def poll(self) -> int:
        """Drain every tap and mirror (up to a bound per round, so depths still refresh
        under heavy traffic); how many messages arrived."""
        arrived = 0
        for watch in list(self._watches):
            for _ in range(_MAX_BATCHES_PER_ROUND):
                batch = watch.tap.receive()
                for raw in batch:
                    self._record(watch, raw)
                arrived += len(batch)
                if len(batch) < _FULL_BATCH:
                    break
        return arrived

    def _record(self, watch: _Watch, raw: SqsMessage) -> None:
        captured = captured_message(raw, capture_source(watch.target, self._session), self._s3)
        attributes = {
            name: value["StringValue"]
            for name, value in captured.attributes.items()
            if "StringValue" in value
        }
        types = {
            name: value["DataType"]
            for name, value in captured.attributes.items()
            if value.get("DataType", "String") != "String"
        }
        sent = int(captured.system_attributes.get("SentTimestamp", time.time() * 1000))
        seen = Seen(
            watch.where, watch.name, captured.message_id, captured.body, attributes, sent, types,
            captured.system_attributes.get("MessageGroupId"),
        )  # fmt: skip
        self.store.add(seen)
        if watch.where == "topic" and self._writer is not None:
            self._writer.write(captured)

    def refresh_depths(self) -> None:
        depths = {}
        for url in self.pipeline.queues.values():
            depth = queue_depth(url, self._session)
            depths[depth.name] = depth
        self.depths = Depths(depths, time.time())

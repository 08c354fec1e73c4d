"""What the inspector has seen: every message on every topic and into every queue, the
ingestion steps among them, and the components' log events; and journeys built from them.

Thread-safe: the observer's thread adds, the web server's threads read.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pylon.s3_pointer import parse_pointer

# How much the inspector keeps in memory (oldest dropped first); the capture file it
# writes keeps everything.
MAX_MESSAGES = 100_000
PREVIEW_CHARACTERS = 300
# Finish times kept per component for its messages-per-minute figure.
_RATE_WINDOW = 20_000


@dataclass(frozen=True)
class Seen:
    """One message as it was published on a topic or delivered to a queue."""

    where: str  # "topic" or "queue"
    name: str  # the topic's or queue's name
    message_id: str
    body: str
    attributes: dict[str, str]
    sent_at_ms: int
    data_types: dict[str, str] = field(default_factory=dict)  # attributes not of String type
    group_id: str | None = None  # its message group, on a FIFO topic or queue

    @property
    def object_type(self) -> str:
        return self.attributes.get("objectType", "")

    @property
    def ingestion_id(self) -> str:
        return self.attributes.get("ingestionId", "")

    @property
    def payload_uri(self) -> str | None:
        """Where the body lives when it was offloaded to S3."""
        if self.attributes.get("payloadS3Path"):
            return self.attributes["payloadS3Path"]
        try:
            location = parse_pointer(self.body)
        except ValueError:
            return None
        return location.uri if location else None

    @property
    def payload_size(self) -> int | None:
        size = self.attributes.get("ExtendedPayloadSize") or self.attributes.get(
            "SQSLargePayloadSize"
        )
        return int(size) if size and size.isdigit() else None

    @property
    def preview(self) -> str:
        return self.body[:PREVIEW_CHARACTERS]

    def matches(self, query: str) -> bool:
        query = query.lower()
        return query in self.body.lower() or any(
            query in f"{k}={v}".lower() for k, v in self.attributes.items()
        )


@dataclass(frozen=True)
class Step:
    """An ingestion step: which component turned which input into which outputs."""

    ingestion_id: str
    parent_ingestion_id: str | None
    artifact_name: str
    artifact_version: str
    timestamp: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class LogEvent:
    """A line a component logged, reduced to what the inspector shows."""

    component: str
    kind: str  # "heartbeat", "timing", "failure"
    time: float
    ingestion_id: str | None = None
    parent_ingestion_id: str | None = None
    timer: str | None = None
    milliseconds: float | None = None
    message_id: str | None = None
    text: str = ""


@dataclass
class Hop:
    """One component's part in a journey: the step it recorded, its timings, its outputs.

    Known from the step it published (pipeline components) and from its `timed_execution`
    log lines (every component, sinks too, when it logs JSON as under `pylon up --ui`).
    """

    step_id: str
    artifact: str = ""  # the step's artifactName (the component's IMAGE_NAME)
    version: str = ""
    component: str = ""  # the spec's name, from its log lines
    timings: dict[str, float] = field(default_factory=dict)
    outputs: list[Seen] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Journey:
    ingestion_id: str
    messages: list[Seen]  # the message(s) with this ingestionId, on topics and in queues
    hops: list[Hop]  # what each component that received it did
    lineage: list[Step]  # from this step back to the root (root last)
    step: Step | None = None


@dataclass
class MessageStore:
    """Everything seen, indexed for the pages."""

    limit: int = MAX_MESSAGES
    _messages: deque[Seen] = field(default_factory=deque)
    # Indexes over _messages, kept in step as the oldest are dropped.
    _by_place: defaultdict[tuple[str, str], deque[Seen]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _by_ingestion: defaultdict[str, list[Seen]] = field(default_factory=lambda: defaultdict(list))
    _steps: dict[str, Step] = field(default_factory=dict)
    _events: deque[LogEvent] = field(default_factory=lambda: deque(maxlen=MAX_MESSAGES))
    _processed: defaultdict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=_RATE_WINDOW))
    )
    _heartbeats: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seen: Seen) -> None:
        with self._lock:
            if len(self._messages) >= self.limit:
                self._forget(self._messages.popleft())
            self._messages.append(seen)
            self._by_place[(seen.where, seen.name)].append(seen)
            self._by_ingestion[seen.ingestion_id].append(seen)
            if seen.where == "topic" and seen.object_type == "ingestionStep":
                step = _step(seen.body)
                if step is not None:
                    self._steps[step.ingestion_id] = step

    def _forget(self, oldest: Seen) -> None:
        self._by_place[(oldest.where, oldest.name)].popleft()  # the oldest there too
        carried = self._by_ingestion[oldest.ingestion_id]
        carried.remove(oldest)
        if not carried:
            del self._by_ingestion[oldest.ingestion_id]

    def add_event(self, event: LogEvent) -> None:
        with self._lock:
            self._events.append(event)
            if event.kind == "timing" and event.timer == "total":
                self._processed[event.component].append(event.time)
            elif event.kind == "heartbeat":
                self._heartbeats[event.component] = event.time

    def processed_since(self, component: str, since: float) -> int:
        """How many messages (executions) `component` finished since `since`."""
        with self._lock:
            return sum(1 for moment in self._processed[component] if moment >= since)

    def last_heartbeat(self, component: str) -> float | None:
        with self._lock:
            return self._heartbeats.get(component)

    def count(self) -> int:
        with self._lock:
            return len(self._messages)

    def messages(self, where: str | None = None, name: str | None = None) -> list[Seen]:
        """Oldest first; those of one topic or queue when `where` and `name` are given."""
        with self._lock:
            if where is not None and name is not None:
                return list(self._by_place.get((where, name), ()))
            return [m for m in self._messages if where is None or m.where == where]

    def find(self, ingestion_id: str) -> list[Seen]:
        with self._lock:
            return list(self._by_ingestion.get(ingestion_id, ()))

    def message(self, where: str, name: str, message_id: str) -> Seen | None:
        with self._lock:
            return next(
                (m for m in self._by_place.get((where, name), ()) if m.message_id == message_id),
                None,
            )

    def events(self, component: str | None = None) -> list[LogEvent]:
        with self._lock:
            return [e for e in self._events if component is None or e.component == component]

    def steps(self) -> dict[str, Step]:
        with self._lock:
            return dict(self._steps)

    def failure_reason(self, message_id: str) -> str | None:
        """The last failure a component logged for this message id (SQS's, as logged)."""
        with self._lock:
            reasons = [
                e.text for e in self._events if e.kind == "failure" and e.message_id == message_id
            ]
        return reasons[-1] if reasons else None

    # ------------------------------------------------------------ journeys

    def journey(self, ingestion_id: str, known_steps: Mapping[str, Step] | None = None) -> Journey:
        """Everything seen of `ingestion_id`; `known_steps` (e.g. from the lineage table)
        fill in steps published before the inspector started."""
        steps = {**(known_steps or {}), **self.steps()}
        carried = [m for m in self.find(ingestion_id) if m.object_type != "ingestionStep"]
        hops: dict[str, Hop] = {}
        for step in sorted(steps.values(), key=lambda s: s.timestamp):
            if step.parent_ingestion_id == ingestion_id:
                hops[step.ingestion_id] = Hop(
                    step.ingestion_id,
                    step.artifact_name,
                    step.artifact_version,
                    metadata=step.metadata,
                )
        for event in self.events():
            if event.kind != "timing":
                continue
            if event.parent_ingestion_id == ingestion_id or event.ingestion_id in hops:
                # A sink records no step: its hop is known by its component's name.
                key = event.ingestion_id or f"sink {event.component}"
                hop = hops.setdefault(key, Hop(event.ingestion_id or ""))
                hop.component = event.component
                hop.timings[str(event.timer)] = float(event.milliseconds or 0)
        for hop in hops.values():
            if not hop.step_id:
                continue
            hop.outputs = [
                m
                for m in self.find(hop.step_id)
                if m.where == "topic" and m.object_type != "ingestionStep"
            ]
        return Journey(
            ingestion_id,
            carried,
            list(hops.values()),
            lineage(steps, ingestion_id),
            steps.get(ingestion_id),
        )


def lineage(steps: dict[str, Step], ingestion_id: str) -> list[Step]:
    """The steps from `ingestion_id` back to the root (as far as they are known)."""
    chain: list[Step] = []
    current = steps.get(ingestion_id)
    while current is not None and current not in chain:
        chain.append(current)
        current = steps.get(current.parent_ingestion_id or "")
    return chain


def _step(body: str) -> Step | None:
    try:
        return step_from_dict(json.loads(body))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def step_from_dict(data: Mapping[str, Any]) -> Step:
    """A step from its JSON document (a published ingestionStep, a lineage table item)."""
    return Step(
        ingestion_id=str(data["ingestionId"]),
        parent_ingestion_id=data.get("parentIngestionId"),
        artifact_name=str(data.get("artifactName", "")),
        artifact_version=str(data.get("artifactVersion", "")),
        timestamp=str(data.get("dimUTCTimestamp", "")),
        metadata=dict(data.get("metadata") or {}),
    )


def group_counts(messages: Iterable[Seen]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for message in messages:
        counts[message.object_type or "?"] += 1
    return dict(counts)

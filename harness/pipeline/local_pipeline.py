"""`LocalPipeline`: services + provisioning + running components, as one object.

`pylon up`, the pytest `pylon_pipeline` fixture and user scripts all use this, so a
pipeline behaves the same from the CLI, from tests and from Python.

    with LocalPipeline(load_spec("pipeline.yaml"), endpoint, run=Runner.PROCESSES) as pipeline:
        pipeline.publish("documents", BaseMessage(...))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import boto3

from harness.endpoints import AwsEndpoint
from harness.lifecycle import Running
from harness.lineage.recorder import with_lineage_recorder
from harness.lineage.store import LineageStore
from harness.messaging.payloads import OutgoingPayloads, payload_location
from harness.messaging.sending import FifoIds, publish_message, send_message
from harness.pipeline.runners import (
    ComponentRunners,
    RunnerFactory,
    container_runner,
    in_process_runner,
    process_runner,
)
from harness.processes.output import LineSink
from harness.provision import ProvisionedPipeline, provision, teardown
from harness.run.services import ServiceRunner
from harness.spec import PipelineSpec
from harness.spec.local_defaults import with_local_defaults
from harness.spec.overrides import with_service_ports
from harness.testing.lineage import LineageChain, assert_lineage, steps_from
from harness.testing.recorder import TopicRecorder

if TYPE_CHECKING:
    from harness.capture.replay import ReplayFilter, ReplayReport
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage


class Runner(StrEnum):
    """How components run: real processes (like ECS), threads of this process, or not at all.

    CONTAINERS runs them as containers of the Pylon base image (needs Docker).
    Components with `mode: lambda` in the spec run as real Lambda functions in the
    emulator under PROCESSES and CONTAINERS, and through an in-process
    event-source-mapping loop under IN_PROCESS (for emulators that cannot execute Lambda).
    """

    PROCESSES = "processes"
    IN_PROCESS = "inprocess"
    CONTAINERS = "containers"
    NONE = "none"


class Provisioner(Protocol):
    """Creates a spec's resources and says what it created."""

    def __call__(
        self, spec: PipelineSpec, session: boto3.session.Session, *, allow_remote: bool
    ) -> ProvisionedPipeline: ...


def _discard(name: str, line: str) -> None:
    """The default LineSink: tests read logs through caplog, not stdout."""


class LocalPipeline(Running):
    def __init__(
        self,
        spec: PipelineSpec,
        endpoint: AwsEndpoint,
        run: Runner = Runner.IN_PROCESS,
        *,
        prefix: str = "",
        sink: LineSink = _discard,
        project_root: Path | None = None,
        session: boto3.session.Session | None = None,
        allow_remote: bool = False,
        record_topics: bool = True,
        recorder_keep: int | None = None,
        provisioner: Provisioner = provision,
        before_components: Callable[[ProvisionedPipeline], object] | None = None,
    ) -> None:
        """`provisioner` creates the resources: the local provisioner by default, or e.g.
        a CloudFormation deploy (`harness.cloudformation.deploy.stack_provisioner`).
        `before_components` runs once the resources exist and before any component
        starts: what it sets up to watch them (the inspector) misses nothing."""
        self.spec = spec.with_prefix(prefix)
        self._prefix = prefix
        self.endpoint = endpoint
        self.run = run
        self._sink = sink
        self._root = project_root or Path.cwd()
        self._session = session or boto3.session.Session()
        self._allow_remote = allow_remote
        self._record_topics = record_topics
        self._recorder_keep = recorder_keep
        self._provisioner = provisioner
        self._before_components = before_components
        self._running: list[Running] = []
        self.runners: ComponentRunners | None = None
        self.service_ports: dict[str, int] = {}
        self.provisioned: ProvisionedPipeline | None = None
        self.recorders: dict[str, TopicRecorder] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> ProvisionedPipeline:
        services = ServiceRunner(self.spec.services, self._sink, self._root)
        self._running.append(services)
        self.service_ports = services.start()
        self.spec = self.prepared(self.spec)
        self.provisioned = self._provisioner(
            self.spec, self._session, allow_remote=self._allow_remote
        )
        if self._record_topics:
            # Recording starts before any component runs, so nothing published is missed.
            self.recorders = {
                n: TopicRecorder(arn, self._session, self._recorder_keep)
                for n, arn in self.provisioned.topics.items()
            }
        if self._before_components is not None:
            self._before_components(self.provisioned)
        self._start_components(self.provisioned)
        return self.provisioned

    def prepared(self, spec: PipelineSpec) -> PipelineSpec:
        """`spec` as this pipeline runs it: service ports filled in, the lineage recorder
        added, local defaults applied (prefix it first with `with_prefix(prefix)`)."""
        return with_local_defaults(
            with_lineage_recorder(with_service_ports(spec, self.service_ports))
        )

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def project_root(self) -> Path:
        """Where the components' code is imported from."""
        return self._root

    def reprovision(self, spec: PipelineSpec, *, prune: bool) -> ProvisionedPipeline:
        """Provision a changed spec (prepared) over the running one, in place: new
        topics get recorders; nothing is removed unless `prune` (see harness.watch)."""
        self.provisioned = provision(
            spec, self._session, allow_remote=self._allow_remote, prune=prune
        )
        self.spec = spec
        if self._record_topics:
            for name, arn in self.provisioned.topics.items():
                if name not in self.recorders:
                    self.recorders[name] = TopicRecorder(arn, self._session, self._recorder_keep)
        return self.provisioned

    def _start_components(self, provisioned: ProvisionedPipeline) -> None:
        if self.run is Runner.NONE:
            return
        self.runners = ComponentRunners(
            self._task_runner(),
            self.run is Runner.IN_PROCESS,
            self.endpoint,
            self._session,
            self._root,
        )
        self.runners.start(provisioned.components.values())

    def _task_runner(self) -> RunnerFactory:
        """Long-running components as processes, containers (the docker extra) or threads."""
        if self.run is Runner.CONTAINERS:
            return container_runner(self.endpoint, self._sink, self._root)
        if self.run is Runner.IN_PROCESS:
            return in_process_runner(self._root)
        return process_runner(self.endpoint, self._sink, self._root)

    def stop(self) -> None:
        """Stop components, then services; resources stay."""
        if self.runners is not None:
            self.runners.stop()
            self.runners = None
        for runner in reversed(self._running):
            runner.stop()
        self._running.clear()

    def teardown(self) -> None:
        """Remove every provisioned resource (and the recorders' queues)."""
        for recorder in self.recorders.values():
            with contextlib.suppress(Exception):  # best effort: the queue may be gone already
                recorder.close()
        if self.provisioned is not None:
            teardown(self.provisioned, self._session)

    # ------------------------------------------------------------ using it

    @property
    def resources(self) -> ProvisionedPipeline:
        if self.provisioned is None:
            raise RuntimeError(
                "the pipeline is not started; call start() or use it in a with block"
            )
        return self.provisioned

    def send(
        self,
        component: str,
        message: BaseMessage,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        """Send straight to a component's input queue (bypassing topics and filters).

        A body over SNS's limit is offloaded under the spec's `payloads.s3_path`, as a
        component would offload it (and refused, saying so, when the spec has none). A
        FIFO queue needs `group_id` (see `harness.messaging.sending.FifoIds`).
        """
        queue = self._queue_of(component)
        fifo = FifoIds(group_id, deduplication_id)
        return send_message(queue, message, self._session, self._outgoing_payloads(), fifo)

    def publish(
        self,
        topic: str,
        message: BaseMessage,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> None:
        """Publish on a topic by its spec name (before prefixing); large bodies and FIFO
        ids as `send`."""
        arn = self.topic_arn(topic)
        fifo = FifoIds(group_id, deduplication_id)
        publish_message(arn, message, self._session, self._outgoing_payloads(), fifo)

    def topic_arn(self, topic: str) -> str:
        prefixed = topic if topic in self.resources.topics else f"{self._prefix}{topic}"
        return self.resources.topic_arn(prefixed)

    def recorder(self, topic: str) -> TopicRecorder:
        """The recorder of a topic (spec name), started with the pipeline."""
        arn = self.topic_arn(topic)
        name = next(n for n, a in self.resources.topics.items() if a == arn)
        return self.recorders[name]

    def ingestion_steps(self) -> dict[str, IngestionStep]:
        """Every ingestion step published on any topic so far."""
        messages: list[BaseMessage] = []
        for recorder in self.recorders.values():
            recorder.poll()
            messages.extend(recorder.messages)
        return steps_from(messages)

    def assert_lineage(self, message: BaseMessage, expected_artifacts: list[str]) -> LineageChain:
        """Walk from `message` back to the root and compare artifact names (root first)."""
        return assert_lineage(message, expected_artifacts, self.ingestion_steps())

    def lineage(self) -> LineageStore:
        """The lineage store the spec asked for (`lineage: {table: …}`), filled by the recorder."""
        table = self.resources.spec.lineage_table
        if not table:
            raise ValueError(
                f"pipeline {self.spec.name} has no lineage store; add `lineage: {{table: NAME}}` to its spec"
            )
        return LineageStore(table, self._session)

    def replay(
        self,
        capture_file: str | Path,
        *,
        topic: str | None = None,
        component: str | None = None,
        replay_filter: ReplayFilter | None = None,
        rate: float | None = None,
        skip_bad_lines: bool = False,
    ) -> ReplayReport:
        """Send a capture file's messages to a topic (spec name) or a component's queue.

        Offloaded payloads are re-uploaded under the spec's `payloads.s3_path` (or Pylon's
        default replay bucket) and the messages rewritten to point there.
        """
        from harness.capture.replay import replay
        from harness.messaging.targets import Target

        if (topic is None) == (component is None):
            raise ValueError("give exactly one of topic= or component=")
        if topic is not None:
            target = Target("topic", topic, self.topic_arn(topic))
        else:
            target = Target("queue", str(component), self._queue_of(str(component)))
        return replay(
            Path(capture_file),
            target,
            replay_filter,
            rate=rate,
            skip_bad_lines=skip_bad_lines,
            payload_s3_path=self._payload_path("replay"),
            session=self._session,
        )

    def _payload_path(self, purpose: str) -> str | None:
        location = payload_location(self.resources.spec.payload_s3_path, None, purpose)
        return location.uri if location else None

    def _outgoing_payloads(self) -> OutgoingPayloads | None:
        location = payload_location(self.resources.spec.payload_s3_path, None, "send")
        return OutgoingPayloads(location, self._session) if location else None

    def _queue_of(self, component: str) -> str:
        url = self.resources.components[component].queue_url
        if url is None:
            raise ValueError(f"component {component} is a source: it has no input queue")
        return url

"""Zero loss under faults, measured.

N numbered inputs go through `relay -> finish` (tests/e2e/fault_components.py), each a
real `runForever` process restarted by a supervisor whenever it ends, as ECS would,
while faults are injected: random task exceptions, poison numbers, tasks slower than
their lease, a hung task, SIGKILL and SIGTERM the moment a component takes a message in
hand, the output topic refusing to publish, and an emulator restart. Then every input
must have come out of the final stage or sit in a dead-letter queue with the reason its
component logged, and every duplicate must be detectable by its ingestionId. The result
is written as a report and printed at the end of the run.

The emulator is a MiniStack of this test's own with AUTH=true (the outage is a real
policy Deny) and PERSIST_STATE=1 (it keeps its state across a graceful restart).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from harness.emulators.ministack import MINISTACK_VERSION, MiniStack
from harness.pipeline.activity import queue_depth, queue_depths
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.reliability.accounting import DeadLetter, Delivery, Ledger
from harness.reliability.faults import FaultError, FaultLog, TopicOutage, signal_component
from harness.reliability.log_watch import LogWatch
from harness.reliability.report import ReliabilityReport
from harness.run.processes import ProcessRunner
from harness.run.supervisor import Supervisor
from harness.spec import spec_from_dict
from harness.testing.lineage import steps_from
from harness.testing.waiting import wait_until
from pylon.aws.sns import SnsTopic
from pylon.codec import encode
from pylon.leases import HUNG_TASK_EXIT_CODE
from pylon.models.messages import BaseMessage, ObjectType
from tests.e2e.conftest import DedicatedEmulator

ROOT = Path(__file__).resolve().parents[2]
N = max(2000, int(os.environ.get("PYLON_FAULT_MESSAGES", "2000")))
LEASE_SECONDS = 3
MAX_RECEIVE_COUNT = 6
POISON = {"relay": [7, 407, 807, 1207, 1607], "finish": [123, 523, 923, 1323, 1723]}
SLOW = {"relay": [300, 1100]}
FAULTS = {
    "seed": 20240601,
    "failure_rate": 0.02,
    "poison": POISON,
    "slow": SLOW,
    "slow_seconds": LEASE_SECONDS + 2,
    "hang": {"finish": [1500]},
    "work_seconds": 0.002,
}
STAGES = {"relay": "relayed", "finish": "done"}  # component -> the topic it publishes on
DEADLINE_SECONDS = 240


def component(name: str, subscribe: list[dict[str, object]]) -> dict[str, object]:
    return {
        "type": "pipeline",
        "entrypoint": f"tests.e2e.fault_components:{name}",
        "subscribe": subscribe,
        "output_topic": STAGES[name],
        "max_receive_count": MAX_RECEIVE_COUNT,
        "visibility_timeout": LEASE_SECONDS,
        "config": {
            "FAULTS": FAULTS,
            "WAIT_TIME_SECONDS": 1,
            "TASK_TIMEOUT_SECONDS": LEASE_SECONDS + 6,
        },
    }


SPEC = {
    "name": "faults",
    "topics": ["numbers"],
    "components": {
        "relay": component("relay", [{"topic": "numbers"}]),
        "finish": component(
            "finish", [{"topic": "relayed", "filter": {"objectType": ["rawContent"]}}]
        ),
    },
}


@dataclass
class FaultRun:
    """The pipeline under test and everything the plan and the accounting need."""

    emulator: MiniStack
    pipeline: LocalPipeline
    runner: ProcessRunner
    supervisor: Supervisor
    log: LogWatch
    faults: FaultLog = field(default_factory=FaultLog)
    dead: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, id, body)

    def topic_arn(self, topic: str) -> str:
        return self.pipeline.topic_arn(topic)

    def progress(self, component: str) -> float:
        recorder = self.pipeline.recorder(STAGES[component])
        return len({m.body for m in recorder.messages if is_output(m)}) / N

    def collect(self) -> None:
        """Drain what the topics published and the dead-letter queues received so far."""
        for topic in STAGES.values():
            recorder = self.pipeline.recorder(topic)
            for _ in range(100):  # bounded, so the plan keeps its pace
                if not recorder.poll():
                    break
        sqs = boto3.client("sqs")
        for name, provisioned in self.pipeline.resources.components.items():
            received = sqs.receive_message(
                QueueUrl=str(provisioned.dead_letter_queue_url), MaxNumberOfMessages=10
            ).get("Messages", [])
            self.dead += [(name, m["MessageId"], m["Body"]) for m in received]
            if received:
                sqs.delete_message_batch(
                    QueueUrl=str(provisioned.dead_letter_queue_url),
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(received)
                    ],
                )

    def accounted(self) -> int:
        done = {m.body for m in self.pipeline.recorder("done").messages if is_output(m)}
        return len(done | {body for _, _, body in self.dead})

    def input_queues_empty(self) -> bool:
        inputs = {c.spec.input_queue for c in self.pipeline.resources.components.values()}
        depths = [d for d in queue_depths(self.pipeline) if d.name in inputs]
        return all(d.visible == 0 and d.in_flight == 0 for d in depths)

    def restart_exited(self) -> None:
        for restart in self.supervisor.restart_exited():
            self.faults.add(
                "process restarted", restart.component, f"exit code {restart.exit_code}"
            )

    def ledger(self) -> Ledger:
        ledger = Ledger([str(n) for n in range(N)], list(STAGES.values()))
        steps = steps_from(self.pipeline.recorder("relayed").messages)
        for message in filter(is_output, self.pipeline.recorder("relayed").messages):
            step = steps.get(message.ingestionId or "")
            parent = step.parentIngestionId if step else None
            ledger.delivered("relayed", Delivery(str(message.body), message.ingestionId, parent))
        for message in filter(is_output, self.pipeline.recorder("done").messages):
            upstream = message.attributes.get("upstreamIngestionId")
            ledger.delivered("done", Delivery(str(message.body), message.ingestionId, upstream))
        reasons = self.log.reasons()
        for stage, message_id, body in self.dead:
            ledger.dead_letter(DeadLetter(body, stage, message_id, reasons.get(message_id)))
        return ledger


def is_output(message: BaseMessage) -> bool:
    return message.objectType is ObjectType.RAW_CONTENT


# ---------------------------------------------------------------- the fault plan

Step = Iterator[None]


def signal_mid_batch(run: FaultRun, component: str, signum: signal.Signals, cue: str) -> Step:
    """Signal `component` the moment it logs `cue`: a task starting (a message in hand) or
    a message done and published (so not yet deleted)."""
    fired = threading.Event()
    queue_url = str(run.pipeline.resources.components[component].queue_url)

    def send() -> None:
        try:
            pid = signal_component(run.runner, component, signum)
        except FaultError:
            run.log.on_next(component, cue, send)  # it was ending anyway: the next one
            return
        in_flight = queue_depth(queue_url).in_flight
        run.faults.add(signum.name, component, f"pid {pid} on {cue!r}, {in_flight} in flight")
        fired.set()

    run.log.on_next(component, cue, send)
    while not fired.is_set():
        yield


def publish_outage(run: FaultRun, topic: str, refusals: int) -> Step:
    """The topic refuses every publish until the relay has seen `refusals` of them."""

    def refused() -> int:
        return run.log.count("AuthorizationError", "relay")

    before, started = refused(), time.monotonic()
    with TopicOutage(run.topic_arn(topic)):
        while refused() - before < refusals:
            yield
    run.faults.add(
        "publish outage",
        topic,
        f"Deny sns:Publish for {time.monotonic() - started:.1f} s: "
        f"{refused() - before} publishes refused",
    )


def emulator_restart(run: FaultRun) -> Step:
    started = time.monotonic()
    run.emulator.restart()
    run.faults.add(
        "emulator restart",
        f"MiniStack {MINISTACK_VERSION}",
        f"stopped and back with its state (PERSIST_STATE=1) in {time.monotonic() - started:.2f} s",
    )
    yield


TASK_STARTS = "heartbeat core_process"
MESSAGE_DONE = "timed_execution total"
PLAN: list[tuple[str, float, Callable[[FaultRun], Step]]] = [
    ("relay", 0.10, lambda run: signal_mid_batch(run, "relay", signal.SIGKILL, MESSAGE_DONE)),
    ("relay", 0.25, lambda run: publish_outage(run, "relayed", refusals=20)),
    ("finish", 0.30, lambda run: signal_mid_batch(run, "finish", signal.SIGTERM, TASK_STARTS)),
    ("finish", 0.50, emulator_restart),
    ("finish", 0.65, lambda run: signal_mid_batch(run, "finish", signal.SIGKILL, MESSAGE_DONE)),
    ("relay", 0.80, lambda run: signal_mid_batch(run, "relay", signal.SIGTERM, TASK_STARTS)),
]


class PlanRunner:
    """Starts each step once its component's progress reaches the step's threshold."""

    def __init__(self, run: FaultRun) -> None:
        self._run = run
        self._pending = list(PLAN)
        self._active: Step | None = None

    @property
    def finished(self) -> bool:
        return not self._pending and self._active is None

    def advance(self) -> None:
        if self._active is None and self._pending:
            component, threshold, start = self._pending[0]
            if self._run.progress(component) < threshold:
                return
            self._pending.pop(0)
            self._active = start(self._run)
        if self._active is not None and next(self._active, StopIteration) is StopIteration:
            self._active = None

    def describe(self) -> str:
        return f"pending steps: {[(c, t) for c, t, _ in self._pending]}, active: {self._active}"


# ---------------------------------------------------------------- the test


def publish_inputs(run: FaultRun) -> None:
    messages = [encode(BaseMessage(body=str(n), ingestionId=f"input-{n}")) for n in range(N)]
    SnsTopic(run.topic_arn("numbers")).publish(messages)


def summarise_log(run: FaultRun) -> None:
    """Faults the components caused themselves, counted from their logs and config."""
    for kind, text in (
        ("task exception (random)", "InjectedFault"),
        ("poison message attempt", "ValueError: poison number"),
        ("hung task stopped", "hung: still in hand"),
    ):
        run.faults.add(kind, "relay, finish", f"log lines with {text!r}", run.log.count(text))
    slow = [n for numbers in SLOW.values() for n in numbers]
    run.faults.add(
        "task slower than its lease",
        "relay",
        f"numbers {slow}: {FAULTS['slow_seconds']} s with a {LEASE_SECONDS} s lease",
        len(slow),
    )


def test_no_message_is_lost_under_faults(
    dedicated_emulator: DedicatedEmulator,
    publish_report: Callable[[ReliabilityReport], Path],
) -> None:
    emulator = dedicated_emulator(AUTH="true", PERSIST_STATE="1")
    log = LogWatch()
    pipeline = LocalPipeline(spec_from_dict(SPEC), emulator.endpoint, Runner.NONE, sink=log)
    provisioned = pipeline.start()
    components = list(provisioned.components.values())
    started = time.monotonic()
    with ProcessRunner(components, emulator.endpoint, log, ROOT) as runner:
        run = FaultRun(emulator, pipeline, runner, Supervisor(runner, components), log)
        plan = PlanRunner(run)
        publish_inputs(run)

        def complete() -> bool:
            run.restart_exited()
            run.collect()
            plan.advance()
            return plan.finished and run.accounted() == N and run.input_queues_empty()

        wait_until(
            complete,
            DEADLINE_SECONDS,
            describe=lambda: f"{run.accounted()}/{N} accounted; {plan.describe()}",
            what="every input to be delivered or dead-lettered",
        )
    run.collect()  # whatever was published while the components stopped
    summarise_log(run)
    ledger = run.ledger()
    report = ReliabilityReport.from_ledger(
        f"{N} inputs through relay -> finish under faults",
        ledger,
        run.faults.faults,
        time.monotonic() - started,
        notes=[
            f"Emulator: MiniStack {MINISTACK_VERSION} with AUTH=true (policies enforced) and "
            "PERSIST_STATE=1, which saves its state on a graceful shutdown and loads it on "
            "start; a crash of the emulator itself would lose its state (AWS does not "
            "crash that way), so the restart injected is a graceful one.",
            f"Leases of {LEASE_SECONDS} s, maxReceiveCount {MAX_RECEIVE_COUNT}, "
            f"TASK_TIMEOUT_SECONDS {LEASE_SECONDS + 6}, fault seed {FAULTS['seed']}.",
            "Duplicates are inherent to at-least-once delivery (a process killed after "
            "publishing but before deleting); each is detectable: it carries the same "
            "ingestionId as another copy, or comes from an input delivered twice upstream "
            "(same parent ingestionId).",
        ],
    )
    publish_report(report)

    assert report.missing == []
    assert ledger.unexplained_dead_letters() == []
    assert sorted(int(d.key) for d in report.dead_letters) == sorted(
        n for numbers in POISON.values() for n in numbers
    )
    assert all(stage.undetectable == 0 for stage in report.stages)
    relayed = ledger.stage_count("relayed")
    assert relayed.same_parent == 0  # every input reached the relay exactly once
    assert HUNG_TASK_EXIT_CODE in [r.exit_code for r in run.supervisor.restarts]
    assert run.faults.count("SIGKILL") == 2 and run.faults.count("SIGTERM") == 2
    assert run.faults.count("emulator restart") == 1 and run.faults.count("publish outage") == 1

"""The fault-injection scenario, at any N: shared by the fault test and the soak.

N numbered inputs go through `relay -> finish` (tests/e2e/fault_components.py), each a
real `runForever` process restarted by a supervisor whenever it ends, as ECS would,
while faults are injected: random task exceptions, poison numbers, tasks slower than
their lease, a hung task, SIGKILL and SIGTERM the moment a component takes a message in
hand, the output topic refusing to publish, and an emulator restart. Then every input
must have come out of the final stage or sit in a dead-letter queue with the reason its
component logged, and every duplicate must be detectable by its ingestionId.

The inputs are paced so the plan fires every fault at any N: they go out at the
pipeline's pace, never more than a window in flight, and a fault step is armed every
(len(PLAN) + 1)th of them while that window of work is in hand, so the component it hits
always has work (nothing can drain first). A steady load also keeps each process's
memory comparable from start to end, which the soak judges. The deadline grows with N.

The emulator is a MiniStack of the run's own with AUTH=true (the outage is a real
policy Deny) and PERSIST_STATE=1 (it keeps its state across a graceful restart).
"""

from __future__ import annotations

import dataclasses
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
from harness.reliability.memory import MemorySampler
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

ROOT = Path(__file__).resolve().parents[2]
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


def deadline_seconds(n: int) -> float:
    """How long a run of `n` inputs may take: measured about 60 s per 1,000 on 2 busy
    cores, with room for the faults' pauses (leases, maxReceiveCount, restarts)."""
    return 180 + 0.12 * n


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

    n: int
    emulator: MiniStack
    pipeline: LocalPipeline
    runner: ProcessRunner
    supervisor: Supervisor
    log: LogWatch
    faults: FaultLog = field(default_factory=FaultLog)
    dead: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, id, body)
    published: int = 0

    def fault(self, kind: str, target: str, detail: str) -> None:
        """Log an injected fault, with how far the run was when it fired."""
        self.faults.add(kind, target, f"{detail}; {self.published}/{self.n} inputs published")

    def topic_arn(self, topic: str) -> str:
        return self.pipeline.topic_arn(topic)

    def progress(self, component: str) -> float:
        recorder = self.pipeline.recorder(STAGES[component])
        return len({m.body for m in recorder.messages if is_output(m)}) / self.n

    def collect(self) -> None:
        """Drain what the topics published and the dead-letter queues received so far."""
        # Every topic's recorder, the inputs' too: a tap nobody drains keeps every message
        # in the emulator, whose memory then grows with the run (the soak saw it).
        for recorder in self.pipeline.recorders.values():
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
        ledger = Ledger([str(n) for n in range(self.n)], list(STAGES.values()))
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
        run.fault(signum.name, component, f"pid {pid} on {cue!r}, {in_flight} in flight")
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
    run.fault(
        "publish outage",
        topic,
        f"Deny sns:Publish for {time.monotonic() - started:.1f} s: "
        f"{refused() - before} publishes refused",
    )


def emulator_restart(run: FaultRun) -> Step:
    started = time.monotonic()
    run.emulator.restart()
    run.fault(
        "emulator restart",
        f"MiniStack {MINISTACK_VERSION}",
        f"stopped and back with its state (PERSIST_STATE=1) in {time.monotonic() - started:.2f} s",
    )
    yield


TASK_STARTS = "heartbeat core_process"
MESSAGE_DONE = "timed_execution total"
# In order; each step starts as its slice of the inputs is published.
PLAN: list[Callable[[FaultRun], Step]] = [
    lambda run: signal_mid_batch(run, "relay", signal.SIGKILL, MESSAGE_DONE),
    lambda run: publish_outage(run, "relayed", refusals=20),
    lambda run: signal_mid_batch(run, "finish", signal.SIGTERM, TASK_STARTS),
    emulator_restart,
    lambda run: signal_mid_batch(run, "finish", signal.SIGKILL, MESSAGE_DONE),
    lambda run: signal_mid_batch(run, "relay", signal.SIGTERM, TASK_STARTS),
]
# Inputs in flight (published, not yet through or dead-lettered) are kept under this
# window, so the pipeline always has work and its queues never pile up: what a fault
# hits, and every process's memory, look the same at the end of a run as at its start.
WINDOW = 400
CHUNK = 100


class PacedPlan:
    """Publishes the inputs at the pipeline's pace and arms one fault step per stretch.

    The run is cut into len(PLAN) + 1 stretches of inputs; as publishing reaches the end
    of a stretch, the next step of the plan is armed, with a window of work still in
    flight for it to hit, and publishing waits until that step has fired, unless that
    window drains first: then a chunk more goes out, so the step has work to hit.
    """

    def __init__(self, run: FaultRun) -> None:
        self._run = run
        stretches = len(PLAN) + 1
        self._arm_at = [run.n * (k + 1) // stretches for k in range(len(PLAN))]
        self._steps = list(PLAN)
        self._active: Step | None = None

    @property
    def finished(self) -> bool:
        return not self._steps and self._active is None and self._run.published == self._run.n

    def advance(self) -> None:
        if self._active is not None:
            if next(self._active, StopIteration) is StopIteration:
                self._active = None
            elif self._run.published == self._run.accounted() < self._run.n:
                # The window drained before the step could hit it (a publish outage waits
                # for refused publishes, a signal for a task start): without more work it
                # would wait until the deadline.
                self._publish()
            return
        if self._steps and self._run.published >= self._arm_at[0]:
            self._arm_at.pop(0)
            self._active = self._steps.pop(0)(self._run)
            return
        outstanding = self._run.published - self._run.accounted()
        if self._run.published < self._run.n and outstanding < WINDOW:
            self._publish()

    def _publish(self) -> None:
        run = self._run
        limit = self._arm_at[0] if self._steps else run.n
        numbers = range(run.published, min(run.published + CHUNK, limit))
        messages = [encode(BaseMessage(body=str(n), ingestionId=f"input-{n}")) for n in numbers]
        SnsTopic(run.topic_arn("numbers")).publish(messages)
        run.published += len(numbers)

    def describe(self) -> str:
        return (
            f"{self._run.published}/{self._run.n} published, {len(self._steps)} step(s) "
            f"not armed, active: {self._active is not None}"
        )


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


# ---------------------------------------------------------------- a whole run


@dataclass
class ScenarioResult:
    run: FaultRun
    ledger: Ledger
    report: ReliabilityReport
    sampler: MemorySampler | None = None


def run_scenario(
    n: int,
    emulator: MiniStack,
    title: str,
    memory: Callable[[FaultRun], MemorySampler] | None = None,
) -> ScenarioResult:
    """`n` inputs through the faults; the report (with memory when `memory` makes a
    sampler for the run's processes)."""
    log = LogWatch()
    pipeline = LocalPipeline(spec_from_dict(SPEC), emulator.endpoint, Runner.NONE, sink=log)
    provisioned = pipeline.start()
    components = list(provisioned.components.values())
    started = time.monotonic()
    sampler: MemorySampler | None = None
    with ProcessRunner(components, emulator.endpoint, log, ROOT) as runner:
        run = FaultRun(n, emulator, pipeline, runner, Supervisor(runner, components), log)
        plan = PacedPlan(run)
        if memory is not None:
            sampler = memory(run)
            sampler.start()

        def complete() -> bool:
            run.restart_exited()
            run.collect()
            plan.advance()
            return plan.finished and run.accounted() == n and run.input_queues_empty()

        try:
            wait_until(
                complete,
                deadline_seconds(n),
                interval_s=0.2,
                describe=lambda: f"{run.accounted()}/{n} accounted; {plan.describe()}",
                what="every input to be delivered or dead-lettered",
            )
        finally:
            if sampler is not None:
                sampler.stop()
    run.collect()  # whatever was published while the components stopped
    summarise_log(run)
    ledger = run.ledger()
    report = ReliabilityReport.from_ledger(
        title, ledger, run.faults.faults, time.monotonic() - started, notes=_notes()
    )
    if sampler is not None:
        report = dataclasses.replace(
            report, memory=sampler.growth(), memory_series=sampler.to_dict()
        )
    pipeline.stop()
    pipeline.teardown()
    return ScenarioResult(run, ledger, report, sampler)


def _notes() -> list[str]:
    return [
        f"Emulator: MiniStack {MINISTACK_VERSION} with AUTH=true (policies enforced) and "
        "PERSIST_STATE=1, which saves its state on a graceful shutdown and loads it on "
        "start; a crash of the emulator itself would lose its state (AWS does not "
        "crash that way), so the restart injected is a graceful one.",
        f"Leases of {LEASE_SECONDS} s, maxReceiveCount {MAX_RECEIVE_COUNT}, "
        f"TASK_TIMEOUT_SECONDS {LEASE_SECONDS + 6}, fault seed {FAULTS['seed']}; inputs "
        f"published at the pipeline's pace (at most {WINDOW} in flight), one fault step "
        f"armed every {len(PLAN) + 1}th of them.",
        "Duplicates are inherent to at-least-once delivery (a process killed after "
        "publishing but before deleting); each is detectable: it carries the same "
        "ingestionId as another copy, or comes from an input delivered twice upstream "
        "(same parent ingestionId).",
    ]


def assert_nothing_lost(result: ScenarioResult) -> None:
    """What every run must show, at any N."""
    report, ledger, run = result.report, result.ledger, result.run
    assert report.missing == []
    assert ledger.unexplained_dead_letters() == []
    assert sorted(int(d.key) for d in report.dead_letters) == sorted(
        n for numbers in POISON.values() for n in numbers if n < run.n
    )
    assert all(stage.undetectable == 0 for stage in report.stages)
    assert ledger.stage_count("relayed").same_parent == 0  # each input reached relay once
    assert HUNG_TASK_EXIT_CODE in [r.exit_code for r in run.supervisor.restarts]
    assert run.faults.count("SIGKILL") == 2 and run.faults.count("SIGTERM") == 2
    assert run.faults.count("emulator restart") == 1 and run.faults.count("publish outage") == 1



"""Framework overhead without I/O: per message on the queue path, per batch in Lambda.

The AWS clients are in-memory stand-ins (`bench.in_memory_aws`), given to the component
through `configure(session=...)`, so every line of Pylon runs and no time goes to HTTP.
Log lines are written, in Pylon's text format, to the null device.

- Per message: `runOnce` over batches of 10 `dataAsset` messages, beside a baseline of
  the bare task call plus `json.loads`/`json.dumps` of the body; then the stages alone
  (decode, lineage, logging, encode).
- The floor: `bench.flat_path` does the work Pylon must do for the same messages as one
  flat loop over plain dicts, with Pylon's JSON routes and log format, and is checked to
  publish what Pylon publishes; the queue path minus it is what Pylon's structure
  (message classes, Execution, hooks, leases, batch bookkeeping) costs.
- Lambda, per 10-record batch (the shape of tests/events/sqs_event.json): Pylon's
  `lambda_handler` (outputs to an in-memory topic) beside Powertools' `BatchProcessor`
  with `process_partial_response` running the same per-message work (target: at
  most 0.80x its time), and beside bare Powertools running only the trivial task;
  then Pylon doing as little as it can (a sink at LOG_LEVEL=WARNING) beside bare
  Powertools. The handlers' runs are interleaved, and each keeps its fastest.

    python -m bench.overhead [--messages 2000] [--repeat 5] [--json PATH] [--profile PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import io
import json
import logging
import os
import pstats
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pylon
from bench import cli
from bench.errors import BenchmarkError
from bench.flat_path import FlatLoop, same_entries
from bench.in_memory_aws import InMemorySession, InMemorySns, InMemorySqs
from bench.report import Figure, Report, Target, TargetKind
from bench.timing import best_of, best_of_prepared
from pylon import json_text
from pylon.codec import decode, encode, inbound_from_lambda_record, inbound_from_sqs, sns_entry
from pylon.config import ComponentConfig, ComponentKind
from pylon.execution import Execution
from pylon.lineage import LineageHook
from pylon.log_format import PylonHandler, TextFormatter
from pylon.logs import heartbeat
from pylon.models.data_asset import DataAsset
from pylon.models.messages import BaseMessage, ObjectType
from pylon.observability import TimingHook
from pylon.payloads import resolve_body
from pylon.result import as_result
from pylon.wire import SqsAttributeValue, SqsMessage

NAME = "overhead"
# Issue 19: the queue path at most 3.5x the bare json-in/json-out loop, and a Lambda batch
# at most 0.80x Powertools doing the same per-message work.
QUEUE_PATH_TARGET = Target(TargetKind.RATIO_AT_MOST, 3.5)
LAMBDA_TARGET = Target(TargetKind.RATIO_AT_MOST, 0.80)
BATCH = 10
EVENT_TEMPLATE = Path(__file__).resolve().parent.parent / "tests" / "events" / "sqs_event.json"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/bench-in"
TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:bench-out"


PASSTHROUGH_METADATA = {"task": "bench passthrough"}


@pylon.PipelineComponent
def passthrough(message: BaseMessage | None, config: ComponentConfig) -> pylon.PylonResult:
    """The queue-path task: hand the data asset on."""
    return pylon.result([message] if message else [], PASSTHROUGH_METADATA)


@pylon.PipelineComponent
def hello(message: BaseMessage | None, config: ComponentConfig) -> pylon.PylonResult:
    """The Lambda task: the README's example, verbatim."""
    assert message is not None
    message.body = "Hello pylon!"
    return pylon.result([message], {"task": "example transform task"})


@pylon.SinkComponent
def hello_sink(message: BaseMessage | None, config: ComponentConfig) -> None:
    """The same task with nothing to publish: as little as Pylon can do per record."""
    assert message is not None
    message.body = "Hello pylon!"


def component_config() -> ComponentConfig:
    values = {"INPUT_QUEUE_NAME": QUEUE_URL, "OUTPUT_TOPIC_ARN": TOPIC_ARN, "WAIT_TIME_SECONDS": 0}
    return ComponentConfig(ComponentKind.PIPELINE, values, "bench", "1.0.0")


def minimal_config() -> ComponentConfig:
    """A sink logging warnings only: no outputs, no lineage, no per-record log lines."""
    return ComponentConfig(
        ComponentKind.SINK, {"INPUT_QUEUE_NAME": QUEUE_URL, "LOG_LEVEL": "WARNING"}
    )


@contextmanager
def logs_to_null_device() -> Iterator[None]:
    """Pylon's log lines, through the handler a component installs in a container,
    written where they cost no I/O wait."""
    root, pylon_logger = logging.getLogger(), logging.getLogger("pylon")
    saved, level = list(root.handlers), pylon_logger.level
    with open(os.devnull, "w") as sink:
        handler = PylonHandler(sink)
        handler.setFormatter(TextFormatter())
        root.handlers = [handler]
        try:
            yield
        finally:
            root.handlers = saved
            pylon_logger.setLevel(level)


# ---------------------------------------------------------------- messages


def data_asset(records: int) -> DataAsset:
    rows = [
        {"station": f"st-{i:03d}", "day": "2024-05-01", "reading": 12.5 + i, "unit": "C"}
        for i in range(records)
    ]
    return DataAsset(
        "weather.readings",
        "NL",
        rows,
        dataAssetPartitionKeys=["day"],
        dataAssetUniqueKeys=["station"],
    )


def sqs_messages(records: int, count: int) -> list[SqsMessage]:
    """`count` received messages (boto3's ReceiveMessage shape) carrying one data asset."""
    wire = encode(
        BaseMessage(body=data_asset(records), objectType=ObjectType.DATA_ASSET, ingestionId="root")
    )
    attributes = {
        name: SqsAttributeValue(DataType="String", StringValue=value)
        for name, value in wire.attributes.items()
    }
    return [
        {
            "MessageId": f"m-{index}",
            "ReceiptHandle": f"r-{index}",
            "Body": wire.body,
            "MessageAttributes": attributes,
            "Attributes": {"ApproximateReceiveCount": "1"},
        }
        for index in range(count)
    ]


def lambda_event(records: int = BATCH) -> dict[str, Any]:
    """A `records`-record SQS event in the shape of tests/events/sqs_event.json."""
    template = json.loads(EVENT_TEMPLATE.read_text())["Records"][0]
    return {
        "Records": [
            {**copy.deepcopy(template), "messageId": f"m-{i}", "body": f"record {i}"}
            for i in range(records)
        ]
    }


# ---------------------------------------------------------------- the queue path


@dataclass(frozen=True)
class Settings:
    messages: int
    records: int
    repeat: int
    invocations: int

    @classmethod
    def from_options(cls, options: argparse.Namespace) -> Settings:
        if options.quick:
            return cls(50, options.records, 1, 20)
        return cls(options.messages, options.records, options.repeat, options.invocations)


def full_path_seconds(settings: Settings) -> float:
    """`runOnce` over all messages, in batches of 10, against in-memory SQS and SNS."""
    raws = sqs_messages(settings.records, settings.messages)
    sessions: list[InMemorySession] = []

    def configured() -> InMemorySession:
        session = InMemorySession(InMemorySqs(copy.deepcopy(raws)))
        passthrough.configure(component_config(), session)
        sessions.append(session)
        return session

    def drain(session: InMemorySession) -> None:
        while session.sqs.pending:
            passthrough.runOnce()

    seconds = best_of_prepared(settings.repeat, configured, drain)
    for session in sessions:
        if session.sqs.deleted != len(raws) or session.sns.published != 2 * len(raws):
            raise BenchmarkError(
                f"the in-memory run deleted {session.sqs.deleted} and published "
                f"{session.sns.published} of {len(raws)} messages: the path failed some"
            )
    return seconds


def flat_path_seconds(settings: Settings) -> float:
    """The same messages through `bench.flat_path`'s loop (Pylon's required work, flat),
    once it has been checked to publish what Pylon publishes."""
    raws = sqs_messages(settings.records, settings.messages)
    check_flat_loop(raws[:BATCH])

    def prepared() -> tuple[FlatLoop, InMemorySqs, InMemorySns]:
        sqs, sns = InMemorySqs(copy.deepcopy(raws)), InMemorySns()
        return flat_loop(sqs, sns), sqs, sns

    def drain(prepared: tuple[FlatLoop, InMemorySqs, InMemorySns]) -> None:
        loop, sqs, sns = prepared
        while sqs.pending:
            loop.run_batch()
        if sqs.deleted != len(raws) or sns.published != 2 * len(raws):
            raise BenchmarkError("the flat loop did not publish and delete every message")

    return best_of_prepared(settings.repeat, prepared, drain)


def flat_loop(sqs: InMemorySqs, sns: InMemorySns) -> FlatLoop:
    """The flat loop of the passthrough component: the same task, artifact and metadata."""
    config = component_config()
    artifact = (config.artifact_name, config.artifact_version)
    return FlatLoop(sqs, sns, lambda asset: asset, artifact, PASSTHROUGH_METADATA)


def check_flat_loop(raws: list[SqsMessage]) -> None:
    """One batch through Pylon and through the flat loop: the same entries, or stop."""
    pylon_sns, flat_sns = InMemorySns(keep=True), InMemorySns(keep=True)
    passthrough.configure(
        component_config(), InMemorySession(InMemorySqs(copy.deepcopy(raws)), pylon_sns)
    )
    passthrough.runOnce()
    flat_loop(InMemorySqs(copy.deepcopy(raws)), flat_sns).run_batch()
    assert pylon_sns.kept is not None and flat_sns.kept is not None
    same_entries(pylon_sns.kept, flat_sns.kept)


def baseline_seconds(settings: Settings) -> float:
    """The least any framework must do: decode the JSON body, call the task, encode."""
    bodies = [raw["Body"] for raw in sqs_messages(settings.records, settings.messages)]

    def task(data: dict[str, Any]) -> dict[str, Any]:
        return data

    def run() -> None:
        for body in bodies:
            json.dumps(task(json.loads(body)))

    return best_of(settings.repeat, run)


def stage_seconds(settings: Settings) -> dict[str, float]:
    """Each stage of the path alone, over the same messages."""
    raws = sqs_messages(settings.records, settings.messages)
    no_s3: Any = None  # inline bodies: resolve_body never touches S3
    config = component_config()
    messages = [decode(inbound, inbound.body) for inbound in map(inbound_from_sqs, raws)]

    def decoding() -> None:
        for raw in raws:
            inbound = inbound_from_sqs(raw)
            decode(inbound, resolve_body(inbound, no_s3))

    def executions() -> list[Execution]:
        prepared = []
        for raw, message in zip(raws, messages, strict=True):
            execution = Execution("bench", config, inbound_from_sqs(raw), message)
            execution.result = as_result([message], "bench")
            execution.outputs = [message]
            prepared.append(execution)
        return prepared

    return {
        "decode": best_of(settings.repeat, decoding),
        "lineage": best_of_prepared(settings.repeat, executions, _lineage),
        "logging": best_of_prepared(settings.repeat, executions, _logging),
        "encode": best_of_prepared(settings.repeat, _stamped(executions), _encoding),
    }


def _stamped(make: Callable[[], list[Execution]]) -> Callable[[], list[Execution]]:
    def stamped() -> list[Execution]:
        prepared = make()
        _lineage(prepared)
        return prepared

    return stamped


def _lineage(executions: list[Execution]) -> None:
    hook = LineageHook()
    for execution in executions:
        hook.before_task(execution)
        hook.after_task(execution)


def _logging(executions: list[Execution]) -> None:
    hook = TimingHook()
    for index, execution in enumerate(executions):
        if index % BATCH == 0:
            heartbeat("run_once")
        hook.before_task(execution)
        hook.after_task(execution)
        hook.after_message(execution, None)


def _encoding(executions: list[Execution]) -> None:
    for execution in executions:
        wires = [encode(output, "output") for output in execution.outputs]
        [sns_entry(wire, str(index)) for index, wire in enumerate(wires)]


# ---------------------------------------------------------------- Lambda


def lambda_seconds(settings: Settings) -> dict[str, float]:
    """Per invocation of a 10-record event: Pylon, Powertools with Pylon's work, bare Powertools."""
    try:
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )
        from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    except ImportError as exc:
        raise BenchmarkError(
            f"aws-lambda-powertools is not installed ({exc}); install the bench extra: "
            "pip install -e '.[bench]' (make dev does)"
        ) from None
    event = lambda_event()
    session = InMemorySession()
    hello.configure(component_config(), session)
    path = hello.runtime.path
    processor = BatchProcessor(event_type=EventType.SQS)

    def with_pylon_work(record: SQSRecord) -> None:
        path.run(inbound_from_lambda_record(record.raw_event))  # type: ignore[arg-type]

    def trivial_task(record: SQSRecord) -> str:
        _ = record.body
        return "Hello pylon!"

    handlers: dict[str, Callable[[], Any]] = {
        "pylon": lambda: hello.lambda_handler(event, None),
        "powertools_same_work": lambda: process_partial_response(
            event=event, record_handler=with_pylon_work, processor=processor
        ),
        "powertools_bare": lambda: process_partial_response(
            event=event, record_handler=trivial_task, processor=processor
        ),
    }
    seconds = _per_invocation(settings, handlers)
    # Last: configuring it turns Pylon's INFO lines off for the whole process.
    hello_sink.configure(minimal_config(), InMemorySession())
    seconds |= _per_invocation(
        settings, {"pylon_minimal": lambda: hello_sink.lambda_handler(event, None)}
    )
    return seconds


def _per_invocation(settings: Settings, handlers: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Seconds per invocation of each handler: the best of its runs, the handlers' runs
    interleaved so that a slower spell of the machine falls on all of them alike."""
    for name, handler in handlers.items():
        if handler() != {"batchItemFailures": []}:
            raise BenchmarkError(f"Lambda handler {name} reported failures on a valid event")
    best = dict.fromkeys(handlers, float("inf"))
    for _ in range(settings.repeat):
        for name, handler in handlers.items():
            run = _repeated(handler, settings.invocations)
            best[name] = min(best[name], best_of(1, run))
    return {name: seconds / settings.invocations for name, seconds in best.items()}


def _repeated(handler: Callable[[], Any], times: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(times):
            handler()

    return run


# ---------------------------------------------------------------- report


def measure(options: argparse.Namespace) -> Report:
    settings = Settings.from_options(options)
    with logs_to_null_device():
        full = full_path_seconds(settings) / settings.messages
        baseline = baseline_seconds(settings) / settings.messages
        flat = flat_path_seconds(settings) / settings.messages
        stages = {k: v / settings.messages for k, v in stage_seconds(settings).items()}
        if options.profile:
            write_queue_path_profile(settings, options.profile)
        handlers = lambda_seconds(settings)
    return _report(settings, full, baseline, flat, stages, handlers)


def write_queue_path_profile(settings: Settings, path: Path) -> None:
    """cProfile of one `runOnce` pass over the messages (after a warm-up pass), as text:
    the calls by cumulative and by own time. Read it for where the time goes; cProfile's
    own cost per call inflates the absolute figures, most for the many small calls."""
    raws = sqs_messages(settings.records, settings.messages)
    profile = cProfile.Profile()
    for profiled in (False, True):
        session = InMemorySession(InMemorySqs(copy.deepcopy(raws)))
        passthrough.configure(component_config(), session)
        with profile if profiled else contextlib.nullcontext():
            while session.sqs.pending:
                passthrough.runOnce()
    text = io.StringIO()
    text.write(
        f"# cProfile of bench.overhead's queue path: runOnce over {settings.messages:,} "
        f"dataAsset messages ({settings.records} records each), in-memory AWS clients, logs to "
        "the null device through Pylon's own handler.\n"
        f"# json_text route: {'orjson' if json_text.ORJSON_IN_USE else 'json'}. Written by "
        "`python -m bench.overhead --profile PATH`.\n"
    )
    stats = pstats.Stats(profile, stream=text)
    stats.strip_dirs()
    for order in ("cumulative", "tottime"):
        stats.sort_stats(order).print_stats(45)
    path.write_text(text.getvalue())


def _report(
    settings: Settings,
    full: float,
    baseline: float,
    flat: float,
    stages: dict[str, float],
    handlers: dict[str, float],
) -> Report:
    micro = 1e6
    report = Report(
        NAME,
        "Framework overhead without I/O (in-memory AWS clients, logs to the null device)",
        parameters={
            "messages": settings.messages,
            "records_per_asset": settings.records,
            "repeat": settings.repeat,
            "lambda_invocations": settings.invocations,
        },
    )
    report.add(
        Figure(
            "queue path per message (runOnce, dataAsset)",
            full * micro,
            "µs",
            "task + json.loads/dumps",
            baseline * micro,
            QUEUE_PATH_TARGET,
        )
    )
    report.add(Figure("framework overhead per message", (full - baseline) * micro, "µs"))
    for stage, seconds in stages.items():
        report.add(Figure(f"  of which {stage}", seconds * micro, "µs"))
    rest = full - sum(stages.values())
    report.add(
        Figure(
            "  of which the rest",
            rest * micro,
            "µs",
            note="the path minus the stages above: the task call, hooks, leases, batching the "
            "publish, deletes (and the in-memory clients). The stages hold the JSON work the "
            "baseline does too, so they and the rest add up to the whole path, not to the "
            "overhead",
        )
    )
    report.add(
        Figure(
            "Pylon's required work as one flat loop, per message",
            flat * micro,
            "µs",
            "task + json.loads/dumps",
            baseline * micro,
            note="bench.flat_path: the same checks, lineage, log lines and entries, with "
            "Pylon's JSON routes, written flat with plain dicts (checked to publish what Pylon "
            "publishes)",
        )
    )
    report.add(
        Figure(
            "  Pylon's structure per message (the queue path minus the flat loop)",
            (full - flat) * micro,
            "µs",
            note="message classes, Execution, hooks, leases, batch bookkeeping: the part of the "
            "path that is neither required work nor the JSON work the baseline does",
        )
    )
    report.add(
        Figure(
            "Lambda handler per 10-record batch",
            handlers["pylon"] * micro,
            "µs",
            "Powertools BatchProcessor, same per-message work",
            handlers["powertools_same_work"] * micro,
            LAMBDA_TARGET,
        )
    )
    report.add(
        Figure(
            "Lambda handler per 10-record batch",
            handlers["pylon"] * micro,
            "µs",
            "bare Powertools BatchProcessor, trivial task only",
            handlers["powertools_bare"] * micro,
            note="Pylon also decodes, records lineage, encodes outputs and logs 3 lines per record",
        )
    )
    report.add(
        Figure(
            "Lambda handler per 10-record batch, minimal",
            handlers["pylon_minimal"] * micro,
            "µs",
            "bare Powertools BatchProcessor, trivial task only",
            handlers["powertools_bare"] * micro,
            note="a SinkComponent at LOG_LEVEL=WARNING: no outputs, no lineage, no log lines",
        )
    )
    report.notes.append(
        f"Best of {settings.repeat} run(s); {settings.messages} messages of a {settings.records}-record "
        f"data asset; {settings.invocations} Lambda invocations per run. Same per-message work = "
        "Powertools' record handler runs Pylon's MessagePath.run on each record (decode, task, "
        "lineage, encode, logs, publish to the in-memory topic), so the difference is the batch "
        "handling alone."
    )
    return report


def parser() -> argparse.ArgumentParser:
    arguments = cli.parser(
        NAME, "Framework overhead without I/O, per message and per Lambda batch."
    )
    arguments.add_argument("--messages", type=int, default=2000, help="queue-path messages per run")
    arguments.add_argument("--records", type=int, default=10, help="records in each data asset")
    arguments.add_argument("--repeat", type=int, default=5, help="runs; the fastest is shown")
    arguments.add_argument(
        "--invocations", type=int, default=300, help="Lambda invocations per run"
    )
    arguments.add_argument(
        "--profile",
        type=Path,
        metavar="PATH",
        help="also write a cProfile of the queue path here (bench/profiles/ keeps the record)",
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())

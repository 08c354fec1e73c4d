"""Heartbeats exactly as the README documents them, each mode in a fresh interpreter.

One start heartbeat per start (`run_once` per call, `run_forever` per start,
`lambda_handler` per invocation, cold or warm), emitted after Pylon's logging is set up;
`core_process` once per message; an idle `runForever` says `liveness run_forever`,
rate-limited, and never repeats its start heartbeat.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from harness.provision import provision
from harness.run.lambda_deploy import LambdaRunner
from harness.spec import spec_from_dict
from harness.testing.waiting import wait_until
from pylon import BaseMessage
from pylon.config import ComponentKind
from pylon.log_format import JsonFormatter
from pylon.logs import Liveness
from pylon.wire import SqsMessage
from tests.conftest import Wiring

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "runtime" / "heartbeat_component.py"
MODULE = "tests.runtime.heartbeat_component"


def count(lines: list[str], text: str) -> int:
    """Lines that end with exactly `text` (the documented line shape)."""
    return sum(1 for line in lines if line.rstrip().endswith(f" {text}"))


def run_component(wiring: Wiring, command: list[str], **config: object) -> list[str]:
    env = {
        **os.environ,
        "PYLON_CONFIG": json.dumps(dict(wiring.config(ComponentKind.PIPELINE, **config))),
        "HEARTBEAT_EVENTS": str(config.get("_events", "")),
    }
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def send(wiring: Wiring, *bodies: str) -> None:
    for body in bodies:
        wiring.send(BaseMessage(body=body))


# ---------------------------------------------------------------- runOnce


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(SCRIPT), "once", "2"], id="bare-interpreter-script"),
        pytest.param(["-m", MODULE, "once", "2"], id="python-m"),
        pytest.param(["-m", MODULE, "--lambda-root", "once", "2"], id="root-already-configured"),
    ],
)
def test_each_run_once_call_logs_one_run_once_heartbeat(wiring: Wiring, command: list[str]) -> None:
    send(wiring, "a", "b", "c")
    wait_until(lambda: wiring.visible_input_count() == 3, what="three queued messages")

    lines = run_component(wiring, command)

    assert count(lines, "heartbeat run_once") == 2, lines
    processed = count(lines, "heartbeat core_process")
    assert processed == 3, lines  # one receive may bring all three, or fewer: 2 calls, 3 msgs
    assert sum("timed_execution core_process" in line for line in lines) == processed
    assert count(lines, "heartbeat run_forever") == 0


# ---------------------------------------------------------------- runForever


class LineReader:
    """Collects a process's stderr lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(process.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(10)


@pytest.fixture
def forever(wiring: Wiring) -> Iterator[tuple[subprocess.Popen[str], LineReader]]:
    config = dict(wiring.config(ComponentKind.PIPELINE, LIVENESS_INTERVAL_SECONDS=1))
    process = subprocess.Popen(
        [sys.executable, "-m", MODULE, "forever"],
        cwd=ROOT,
        env={**os.environ, "PYLON_CONFIG": json.dumps(config)},
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = LineReader(process)
    try:
        yield process, reader
    finally:
        process.kill()
        process.wait(10)


def test_run_forever_logs_one_start_heartbeat_however_often_it_polls(
    wiring: Wiring, forever: tuple[subprocess.Popen[str], LineReader]
) -> None:
    process, reader = forever
    send(wiring, "one", "two")
    # WAIT_TIME_SECONDS=1: every idle second is a poll; three liveness lines (one per
    # second at most) prove the loop polled several times after the two messages.
    wait_until(
        lambda: (
            count(reader.lines, "heartbeat core_process") == 2
            and sum("liveness run_forever" in line for line in reader.lines) >= 3
        ),
        timeout_s=30,
        describe=lambda: "\n".join(reader.lines[-10:]),
        what="two messages processed and three liveness lines",
    )
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    reader.join()

    lines = reader.lines
    assert count(lines, "heartbeat run_forever") == 1, lines
    assert count(lines, "heartbeat core_process") == 2
    liveness = [line for line in lines if "liveness run_forever" in line]
    assert all("heartbeat" not in line for line in liveness)
    assert all(" polls=" in line and " messages=" in line for line in liveness)


def poll_for(liveness: Liveness, now: list[float], seconds: int) -> None:
    """A poll a second for `seconds` s; every tenth poll brings a message."""
    for second in range(1, seconds + 1):
        now[0] = float(second)
        liveness.poll(1 if second % 10 == 0 else 0)


def test_liveness_says_at_most_one_line_per_interval_with_what_it_saw(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    with caplog.at_level(logging.INFO, logger="pylon"):
        poll_for(Liveness(60, clock=lambda: now[0]), now, 149)
    assert caplog.messages == [
        "liveness run_forever polls=60 messages=6",
        "liveness run_forever polls=60 messages=6",
    ]


def test_liveness_is_off_when_its_interval_is_zero(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    with caplog.at_level(logging.INFO, logger="pylon"):
        poll_for(Liveness(0, clock=lambda: now[0]), now, 7200)
    assert caplog.messages == []


# ---------------------------------------------------------------- lambda_handler


def lambda_events(wiring: Wiring, tmp_path: Path, how_many: int) -> str:
    """SQS events made of real messages from the input queue, one file each."""
    paths = []
    for index in range(how_many):
        send(wiring, f"record {index}")
        raw: list[SqsMessage] = wait_until(
            lambda: wiring.input_queue.receive(1, wait_seconds=1), what="a queued message"
        )
        record = {
            "messageId": raw[0]["MessageId"],
            "receiptHandle": raw[0]["ReceiptHandle"],
            "body": raw[0]["Body"],
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {
                name: {"stringValue": value["StringValue"], "dataType": "String"}
                for name, value in raw[0].get("MessageAttributes", {}).items()
            },
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:input",
        }
        path = tmp_path / f"event-{index}.json"
        path.write_text(json.dumps({"Records": [record]}))
        paths.append(str(path))
    return os.pathsep.join(paths)


@pytest.mark.parametrize("root", [[], ["--lambda-root"]], ids=["bare", "lambda-runtime-root"])
def test_every_lambda_invocation_cold_or_warm_logs_one_lambda_handler_heartbeat(
    wiring: Wiring, tmp_path: Path, root: list[str]
) -> None:
    events = lambda_events(wiring, tmp_path, 3)

    lines = run_component(wiring, ["-m", MODULE, *root, "lambda", "3"], _events=events)

    assert count(lines, "heartbeat lambda_handler") == 3, lines
    assert count(lines, "heartbeat core_process") == 3
    # The cold start's heartbeat comes before its message is processed.
    first_start = next(i for i, line in enumerate(lines) if "heartbeat lambda_handler" in line)
    first_message = next(i for i, line in enumerate(lines) if "heartbeat core_process" in line)
    assert first_start < first_message


@pytest.mark.slow
def test_emulated_lambda_logs_one_heartbeat_per_invocation_from_the_cold_start(
    aws_env: object, boto_session: boto3.session.Session
) -> None:
    spec = spec_from_dict(
        {
            "name": "heartbeats",
            "components": {
                "echo": {"type": "pipeline", "entrypoint": f"{MODULE}:echo", "mode": "lambda"}
            },
        }
    )
    component = provision(spec, boto_session).components["echo"]
    queue = boto_session.client("sqs")
    logs = boto_session.client("logs")
    group = "/aws/lambda/echo"

    def invocations() -> list[list[str]]:
        """The lines of each invocation (MiniStack writes one log stream per invocation)."""
        try:
            streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [
            [
                e["message"]
                for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])[
                    "events"
                ]
            ]
            for s in streams
        ]

    def processed() -> int:
        return sum(count(lines, "heartbeat core_process") for lines in invocations())

    with LambdaRunner([component], aws_env):  # type: ignore[arg-type]
        for index in range(2):  # one at a time: the first is the cold start
            queue.send_message(
                QueueUrl=component.queue_url,
                MessageBody=f"lambda {index}",
                MessageAttributes={
                    "objectType": {"DataType": "String", "StringValue": "rawContent"}
                },
            )
            wait_until(lambda i=index: processed() == i + 1, timeout_s=60, what="an invocation")

    runs = [lines for lines in invocations() if any("START RequestId" in x for x in lines)]
    assert len(runs) == 2, runs
    for lines in runs:
        assert count(lines, "heartbeat lambda_handler") == 1, lines


def test_the_json_liveness_line_carries_the_field_its_metric_filter_reads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    with caplog.at_level(logging.INFO, logger="pylon"):
        poll_for(Liveness(30, clock=lambda: now[0]), now, 30)
    (record,) = caplog.records
    data = json.loads(JsonFormatter().format(record))
    assert (data["liveness"], data["polls"], data["messages"]) == ("run_forever", 30, 3)
    assert "heartbeat" not in data

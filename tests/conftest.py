"""Shared fixtures for Pylon's own tests (the emulator fixtures come from the plugin)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.endpoints import AwsEndpoint
from harness.pipeline.activity import queue_depth
from harness.reliability.report import ReliabilityReport
from pylon.aws.sqs import SqsQueue
from pylon.codec import decode, encode, inbound_from_sqs
from pylon.config import ComponentConfig, ComponentKind
from pylon.models.messages import BaseMessage
from pylon.wire import InboundMessage


def pytest_configure(config: pytest.Config) -> None:
    """Let the CLI processes the tests start take Ctrl-C, as they do in a terminal.

    Started in the background without job control (`nohup make test &`), the test run
    inherits SIGINT ignored, every child would too, and a test stopping `pylon up` with
    SIGINT would wait in vain. A handled signal is reset to its default in a child (an
    ignored one is not), so handling it here gives the children the default again.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@dataclass
class Wiring:
    """An input queue, an output topic with an observer queue on it, and a payload bucket."""

    endpoint: AwsEndpoint
    input_queue: SqsQueue
    input_queue_name: str
    topic_arn: str
    observer: SqsQueue
    bucket: str
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self, kind: ComponentKind, **entries: Any) -> ComponentConfig:
        values = {
            "INPUT_QUEUE_NAME": self.input_queue_name,
            "OUTPUT_TOPIC_ARN": self.topic_arn,
            "OUTPUT_PAYLOAD_S3_PATH": f"s3://{self.bucket}/payloads/",
            "WAIT_TIME_SECONDS": 1,
            **entries,
        }
        return ComponentConfig(
            kind, values, artifact_name="test-component", artifact_version="1.2.3"
        )

    def send(self, message: BaseMessage) -> str:
        return self.input_queue.send([encode(message)])[0]

    def collect_raw(self, queue: SqsQueue, count: int, timeout: float = 15) -> list[InboundMessage]:
        """Poll `queue` until `count` messages arrived or the deadline passes (then fail)."""
        seen: list[InboundMessage] = []
        deadline = time.monotonic() + timeout
        while len(seen) < count and time.monotonic() < deadline:
            batch = queue.receive(10, wait_seconds=1)
            seen.extend(inbound_from_sqs(raw) for raw in batch)
            queue.delete([raw["ReceiptHandle"] for raw in batch])
        assert len(seen) >= count, f"expected {count} messages, saw {len(seen)}: {seen}"
        return seen

    def collect(self, count: int, timeout: float = 15) -> list[BaseMessage]:
        """Messages published on the output topic, decoded."""
        return [decode(m, m.body) for m in self.collect_raw(self.observer, count, timeout)]

    def input_queue_visibility(self, seconds: int) -> None:
        """Set the input queue's VisibilityTimeout (the lease a receive takes)."""
        boto3.client("sqs").set_queue_attributes(
            QueueUrl=self.input_queue.url, Attributes={"VisibilityTimeout": str(seconds)}
        )

    def visible_input_count(self) -> int:
        """Messages in the input queue, waiting or in flight."""
        return queue_depth(self.input_queue.url).total


@pytest.fixture
def wiring(aws_env: AwsEndpoint) -> Iterator[Wiring]:
    suffix = uuid.uuid4().hex[:8]
    sqs = boto3.client("sqs")
    sns = boto3.client("sns")
    s3 = boto3.client("s3")
    input_name = f"input-{suffix}"
    input_url = sqs.create_queue(QueueName=input_name, Attributes={"VisibilityTimeout": "2"})[
        "QueueUrl"
    ]
    topic_arn = sns.create_topic(Name=f"output-{suffix}")["TopicArn"]
    observer_url = sqs.create_queue(QueueName=f"observer-{suffix}")["QueueUrl"]
    observer_arn = sqs.get_queue_attributes(QueueUrl=observer_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=observer_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    bucket = f"payloads-{suffix}"
    s3.create_bucket(Bucket=bucket)
    yield Wiring(
        aws_env, SqsQueue(input_url), input_name, topic_arn, SqsQueue(observer_url), bucket
    )


ROOT = Path(__file__).resolve().parents[1]


def run_component_process(module: str, pylon_config: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m module` (a component's runForever) until it ends, as a container."""
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, "PYLON_CONFIG": pylon_config},
        capture_output=True,
        text=True,
        timeout=60,
    )


def subscribe_raw(topic_arn: str, queue_url: str) -> None:
    """Subscribe a queue to a topic with raw delivery, as the provisioner does."""
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    boto3.client("sns").subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )


def load_event(name: str) -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "events" / name).read_text())  # type: ignore[no-any-return]


# ------------------------------------------------------------------ reliability reports

# Reliability reports (tests/e2e, tests/watch) are written to `$PYLON_REPORT_DIR` (default:
# `reports/` under pytest's base temporary directory) and printed in the terminal summary.
REPORT_DIR_ENV_VAR = "PYLON_REPORT_DIR"
_REPORTS = pytest.StashKey[list[Path]]()


@pytest.fixture
def publish_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[ReliabilityReport], Path]:
    """Write a report (Markdown and JSON) and have it printed at the end of the run."""
    directory = Path(
        os.environ.get(REPORT_DIR_ENV_VAR) or tmp_path_factory.getbasetemp() / "reports"
    )

    def publish(report: ReliabilityReport) -> Path:
        path = report.write(directory)
        request.config.stash.setdefault(_REPORTS, []).append(path)
        return path

    return publish


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for path in config.stash.get(_REPORTS, []):
        terminalreporter.write_sep("=", f"reliability report: {path}")
        terminalreporter.write(path.read_text())

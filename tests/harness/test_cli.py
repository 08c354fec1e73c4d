"""The `pylon` CLI against the emulator: every command, its output, exit codes and errors.

Commands that run a while (`up`, a live `tail`) run as real subprocesses, as a user runs
them; the rest go through typer's CliRunner in this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner, Result

from harness.cli.main import app
from harness.emulators import background
from harness.endpoints import AwsEndpoint
from harness.pipeline.activity import queue_depth
from harness.testing.waiting import wait_until
from pylon.aws.s3 import S3Store
from pylon.codec import inbound_from_sqs
from pylon.payloads import resolve_body
from pylon.s3_pointer import parse_pointer
from pylon.wire import InboundMessage
from tests.conftest import subscribe_raw
from tests.processes import descendants, pid_alive

ROOT = Path(__file__).parents[2]
HELLO_SPEC = ROOT / "examples" / "readme" / "hello.yaml"
DOCS_SPEC = ROOT / "examples" / "docs_pipeline" / "pipeline.yaml"
PYLON = str(Path(sys.executable).with_name("pylon"))

Invoke = Callable[..., Result]


@pytest.fixture
def cli(aws_env: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """Run `pylon ARGS...` in-process against the test's emulator (via $PYLON_ENDPOINT)."""
    monkeypatch.setenv("PYLON_ENDPOINT", aws_env.endpoint_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables must not truncate what we assert on
    saved = dict(os.environ)  # commands point os.environ at the endpoint; undo that after

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    yield invoke
    os.environ.clear()
    os.environ.update(saved)


def _subprocess_env(aws_env: AwsEndpoint) -> dict[str, str]:
    return {**os.environ, "PYLON_ENDPOINT": aws_env.endpoint_url, "COLUMNS": "200"}


class LineReader:
    """Reads a child's stdout on a thread, so the test can wait for a line with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(
            target=lambda: [self._queue.put(line) for line in stream], daemon=True
        ).start()

    def wait_for(self, text: str, timeout_s: float) -> None:
        def seen() -> bool:
            while not self._queue.empty():
                self.lines.append(self._queue.get())
            return any(text in line for line in self.lines)

        wait_until(seen, timeout_s, describe=lambda: "".join(self.lines[-30:]), what=repr(text))


def _exit_code_or_stacks(
    process: subprocess.Popen[str], reader: LineReader, timeout_s: float
) -> int:
    """The exit code; past the deadline, fail with the output and every thread's stack
    (the child runs with PYTHONFAULTHANDLER=1, so SIGABRT makes it print them)."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        for pid in descendants(process.pid):  # their dumps reach us through `pylon up`
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGABRT)
        with contextlib.suppress(AssertionError):
            reader.wait_for("Thread 0x", timeout_s=5)
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=10)
        with contextlib.suppress(AssertionError):
            reader.wait_for("Thread 0x", timeout_s=5)
        pytest.fail(f"still running {timeout_s:g} s after Ctrl-C:\n" + "".join(reader.lines))


# ------------------------------------------------------------------ help and usage


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["up"],
        ["provision"],
        ["send"],
        ["tail"],
        ["emulator"],
        ["emulator", "start"],
        ["emulator", "stop"],
        ["emulator", "status"],
        ["emulator", "install"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])

    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_send_needs_exactly_one_of_body_or_file(cli: Invoke) -> None:
    boto3.client("sqs").create_queue(QueueName="inbox")

    result = cli("send", "inbox")

    assert result.exit_code == 2
    assert "give exactly one of --body or --file" in result.output


# ------------------------------------------------------------------ provision


def test_provision_lists_every_resource_and_is_safe_to_repeat(cli: Invoke) -> None:
    first = cli("provision", str(DOCS_SPEC), "--service", "docs-server=8080")
    second = cli("provision", str(DOCS_SPEC), "--service", "docs-server=8080")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    for name in (
        "parser-in",
        "parser-in-dlq",
        "lake-writer-in",
        "documents",
        "readings",
        "docs-lake",
    ):
        assert name in first.output
    queues = boto3.client("sqs").list_queues()["QueueUrls"]
    assert sorted(url.rsplit("/", 1)[1] for url in queues) == [
        "docs-pylon-lineage-in",  # the lineage recorder's queue: the spec asks for lineage
        "docs-pylon-lineage-in-dlq",
        "lake-writer-in",
        "lake-writer-in-dlq",
        "parser-in",
        "parser-in-dlq",
    ]


def test_provision_reports_an_invalid_spec_naming_file_and_key(cli: Invoke, tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: broken\ncomponents:\n  a: {type: pipeline, entrypoint: nocolon}\n")

    result = cli("provision", str(spec))

    assert result.exit_code == 1
    assert "broken.yaml" in result.output
    assert "components.a.entrypoint" in result.output
    assert "Traceback" not in result.output


def test_provision_refuses_a_remote_endpoint_before_any_request(cli: Invoke) -> None:
    # 192.0.2.0/24 is TEST-NET-1: refused by the loopback check, so nothing is ever sent.
    result = cli("provision", str(HELLO_SPEC), "--endpoint", "http://192.0.2.10:4566")

    assert result.exit_code == 1
    assert "--allow-remote" in result.output


# ------------------------------------------------------------------ send and tail


def test_send_to_a_queue_keeps_attributes_and_tail_shows_it_without_consuming(
    cli: Invoke,
) -> None:
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="inbox-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}
    url = sqs.create_queue(QueueName="inbox", Attributes={"RedrivePolicy": json.dumps(policy)})[
        "QueueUrl"
    ]

    sent = cli("send", "inbox", "--body", "hello there", "-a", "origin=cli-test")
    # Longer than maxReceiveCount polls: a zero-visibility peek would move it to the DLQ.
    tailed = cli("tail", "inbox", "--seconds", "4")

    assert sent.exit_code == 0, sent.output
    assert "sent to queue inbox" in sent.output
    assert tailed.exit_code == 0, tailed.output
    assert tailed.output.count("hello there") == 1
    assert "origin" in tailed.output and "cli-test" in tailed.output
    assert "rawContent" in tailed.output
    (message,) = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert message["Body"] == "hello there"
    assert message["MessageAttributes"]["origin"]["StringValue"] == "cli-test"
    assert message["Attributes"]["ApproximateReceiveCount"] == "2"  # the tail's one receive + ours
    assert queue_depth(dlq_url).total == 0


def test_send_publishes_on_a_topic_by_name(cli: Invoke) -> None:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    topic_arn = sns.create_topic(Name="news")["TopicArn"]
    url = sqs.create_queue(QueueName="reader")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )

    result = cli("send", "news", "--body", '{"event": "x"}', "--object-type", "lambdaEvent")

    assert result.exit_code == 0, result.output
    assert "sent to topic news" in result.output
    (message,) = wait_until(
        lambda: sqs.receive_message(
            QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages"),
        timeout_s=15,
        what="the published message on the subscribed queue",
    )
    assert json.loads(message["Body"]) == {"event": "x"}
    assert message["MessageAttributes"]["objectType"]["StringValue"] == "lambdaEvent"


LARGE = "z" * 300_000  # over SNS's 256 KiB


def test_send_of_a_body_over_the_sns_limit_without_a_payload_location_says_how_to_give_one(
    cli: Invoke, tmp_path: Path
) -> None:
    boto3.client("sns").create_topic(Name="news")
    big = tmp_path / "big.txt"
    big.write_text(LARGE)

    result = cli("send", "news", "--file", str(big), "--object-type", "rawContent")

    assert result.exit_code == 1
    assert "300" in result.output and "over SNS's 262144-byte limit" in result.output
    assert "--payload-bucket" in result.output and "--spec" in result.output
    assert "InvalidParameter" not in result.output and "Traceback" not in result.output


def test_send_offloads_a_large_body_to_the_payload_bucket_as_a_component_would(
    cli: Invoke, tmp_path: Path
) -> None:
    topic = boto3.client("sns").create_topic(Name="news")["TopicArn"]
    reader = boto3.client("sqs").create_queue(QueueName="reader")["QueueUrl"]
    subscribe_raw(topic, reader)
    big = tmp_path / "big.txt"
    big.write_text(LARGE)

    result = cli("send", "news", "--file", str(big), "--payload-bucket", "test-payloads")

    assert result.exit_code == 0, result.output
    inbound = _received(reader)
    assert inbound.attributes["payloadS3Path"].startswith("s3://test-payloads/pylon-send/")
    assert resolve_body(inbound, S3Store()) == LARGE


def test_send_with_a_spec_offloads_under_its_payload_location_into_a_component_queue(
    cli: Invoke, tmp_path: Path
) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text(
        "name: big\n"
        "buckets: [big-payloads]\n"
        "payloads: {s3_path: 's3://big-payloads/offload/'}\n"
        "components:\n"
        "  hello: {type: pipeline, entrypoint: 'examples.readme.hello:pipelineTask'}\n"
    )
    assert cli("provision", str(spec)).exit_code == 0
    big = tmp_path / "big.txt"
    big.write_text(LARGE)

    result = cli("send", "hello", "--spec", str(spec), "--file", str(big))

    assert result.exit_code == 0, result.output
    assert "sent to queue hello-in" in result.output
    url = boto3.client("sqs").get_queue_url(QueueName="hello-in")["QueueUrl"]
    inbound = _received(url)
    assert inbound.attributes["payloadS3Path"].startswith("s3://big-payloads/offload/send/")
    assert parse_pointer(inbound.body) is not None
    assert resolve_body(inbound, S3Store()) == LARGE


def _received(url: str) -> InboundMessage:
    sqs = boto3.client("sqs")
    (raw,) = wait_until(
        lambda: sqs.receive_message(
            QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages"),
        timeout_s=15,
        what=f"a message on {url}",
    )
    return inbound_from_sqs(raw)


def test_send_names_the_unknown_target(cli: Invoke) -> None:
    result = cli("send", "nowhere", "--body", "x")

    assert result.exit_code == 1
    assert "no queue or topic named 'nowhere'" in result.output


def test_send_rejects_a_body_that_does_not_match_its_object_type(cli: Invoke) -> None:
    boto3.client("sqs").create_queue(QueueName="inbox")

    result = cli("send", "inbox", "--body", "{not json", "--object-type", "dataAsset")

    assert result.exit_code == 1
    assert "DataAsset" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_tail_of_a_topic_prints_what_is_published_then_cleans_up(aws_env: AwsEndpoint) -> None:
    sns = boto3.client("sns")
    topic_arn = sns.create_topic(Name="news")["TopicArn"]
    process = subprocess.Popen(
        [PYLON, "tail", "news", "--count", "1", "--seconds", "60"],
        env=_subprocess_env(aws_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(
            lambda: sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"],
            timeout_s=30,
            what="the tail's subscription",
        )
        sns.publish(
            TopicArn=topic_arn,
            Message="breaking",
            MessageAttributes={"objectType": {"DataType": "String", "StringValue": "rawContent"}},
        )
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 0, output
    assert "breaking" in output
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


# ------------------------------------------------------------------ up


@pytest.mark.slow
def test_up_runs_the_example_until_idle_prints_the_lake_and_tears_down(
    aws_env: AwsEndpoint,
) -> None:
    result = subprocess.run(
        [PYLON, "up", str(DOCS_SPEC), "--until-idle", "2", "--teardown"],
        env={**_subprocess_env(aws_env), "COLUMNS": "80"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    lines = out.splitlines()
    for prefix in ("fetcher ", "parser ", "lake-writer "):
        assert any(line.startswith(prefix) and "|" in line for line in lines), prefix
    assert "dataAsset: 3" in out
    assert "urlResource: 3" in out
    assert "s3://docs-lake/lake/weather/readings/country=NL/" in out
    assert "observed_date=2024-05-01/part-0000.jsonl" in out
    assert "s3://docs-payloads is empty" in out
    # Readable at 80 columns: nothing wider, nothing cut short, no word broken in two.
    assert [line for line in lines if len(line) > 80] == []
    assert "…" not in out
    for name in ("docs-pylon-lineage-in-dlq", "documents -> docs-pylon-lineage-in"):
        assert name in out
    assert "queue URLs: http://127.0.0.1:" in out
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def _summary(output: str) -> list[str]:
    """The end-of-run summary lines of `pylon up` (published, queues, bucket contents)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "published")
    return [line for line in lines[start:] if "|" not in line or line.startswith(("│", "┃"))]


@pytest.mark.slow
@pytest.mark.docker
def test_up_on_localstack_prints_the_same_summary_as_embedded(aws_env: AwsEndpoint) -> None:
    env = {k: v for k, v in _subprocess_env(aws_env).items() if k != "PYLON_ENDPOINT"}
    runs = {
        emulator: subprocess.run(
            [PYLON, "up", str(DOCS_SPEC), "--until-idle", "3", "--emulator", emulator],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        for emulator in ("embedded", "localstack")
    }

    for emulator, run in runs.items():
        assert run.returncode == 0, f"{emulator}:\n{run.stdout}\n{run.stderr}"
    assert _summary(runs["localstack"].stdout) == _summary(runs["embedded"].stdout)
    assert "dataAsset: 3" in runs["localstack"].stdout
    assert "dynamodb: served at http://127.0.0.1:" in runs["localstack"].stdout


@pytest.mark.slow
def test_up_stops_components_and_its_emulator_on_ctrl_c() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYLON_ENDPOINT", "AWS_ENDPOINT_URL")}
    if background.running() is not None:
        pytest.skip("a `pylon emulator start` emulator is running; `up` would attach to it")
    process = subprocess.Popen(
        [PYLON, "up", str(HELLO_SPEC)],
        # A hang on the way out dumps every thread's stack (SIGABRT below), for the report.
        env={**env, "COLUMNS": "200", "PYTHONFAULTHANDLER": "1"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        reader = LineReader(process)
        reader.wait_for("running; Ctrl-C to stop", timeout_s=60)
        reader.wait_for("hello ", timeout_s=30)  # the component logged: it is running
        children = descendants(process.pid)
        assert len(children) >= 2, "expected the emulator and the component below `pylon up`"

        process.send_signal(signal.SIGINT)
        code = _exit_code_or_stacks(process, reader, timeout_s=60)
        reader.wait_for("stopping", timeout_s=5)
    finally:
        process.kill()

    assert code == 0, "".join(reader.lines)
    wait_until(
        lambda: not any(pid_alive(pid) for pid in children),
        timeout_s=15,
        describe=lambda: str([pid for pid in children if pid_alive(pid)]),
        what="every process `pylon up` started to be gone",
    )


# ------------------------------------------------------------------ emulator


@pytest.mark.slow
def test_emulator_start_status_stop_and_other_commands_find_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background, "state_file", lambda: tmp_path / "background.json")
    for name in ("PYLON_ENDPOINT", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    saved = dict(os.environ)
    runner = CliRunner()
    try:
        started = runner.invoke(app, ["emulator", "start"])
        state = background.running()
        status = runner.invoke(app, ["emulator", "status"])
        sqs = boto3.client(
            "sqs",
            endpoint_url=state.endpoint_url if state else None,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        sqs.create_queue(QueueName="found-it")
        sent = runner.invoke(app, ["send", "found-it", "--body", "via background"])
    finally:
        stopped = runner.invoke(app, ["emulator", "stop"])
        os.environ.clear()
        os.environ.update(saved)
    after = runner.invoke(app, ["emulator", "status"])

    assert started.exit_code == 0, started.output
    assert state is not None and state.endpoint_url in started.output
    assert status.exit_code == 0 and "healthy" in status.output
    assert sent.exit_code == 0, sent.output
    assert stopped.exit_code == 0 and "stopped MiniStack" in stopped.output
    assert not pid_alive(state.pid)
    assert after.exit_code == 1 and "not running" in after.output


def test_commands_without_any_emulator_say_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background, "state_file", lambda: tmp_path / "background.json")
    monkeypatch.delenv("PYLON_ENDPOINT", raising=False)

    result = CliRunner().invoke(app, ["send", "inbox", "--body", "x"])

    assert result.exit_code == 1
    assert "pylon emulator start" in result.output

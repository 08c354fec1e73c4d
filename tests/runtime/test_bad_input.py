"""Bad input, table by table: each case gets a clear error naming what was wrong, nothing is
lost (the message stays in its queue; a bad config or spec touches nothing), and no stack
trace is printed where Pylon diagnosed the problem itself.

Tables: message bodies and attributes (with wrong MIME types, non-UTF-8 payloads and
oversized outputs) through a running component; Lambda event shapes; config values at
start-up; pipeline spec files and capture-file lines through the CLI.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from typer.testing import CliRunner

import pylon
from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from harness.pipeline.activity import queue_depth
from harness.run.esm_loop import LambdaContext, sqs_event_from_messages
from harness.testing.waiting import wait_until
from pylon.components import CONFIG_EXIT_CODE
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import MessageDecodeError
from pylon.wire import LambdaSqsRecord
from tests.conftest import Wiring, run_component_process
from tests.e2e.conftest import DedicatedEmulator


@pylon.PipelineComponent
def careful(message, config):  # type: ignore[no-untyped-def]
    return pylon.result([message], {})


def _send_raw(wiring: Wiring, body: str, attributes: Mapping[str, str | bytes]) -> str:
    response = boto3.client("sqs").send_message(
        QueueUrl=wiring.input_queue.url,
        MessageBody=body,
        MessageAttributes={name: _attribute(value) for name, value in attributes.items()},
    )
    return str(response["MessageId"])


def _attribute(value: str | bytes) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"DataType": "Binary", "BinaryValue": value}
    return {"DataType": "String", "StringValue": value}


def _one_line(text: str) -> str:
    """Rich wraps long lines at the terminal width; compare with whitespace collapsed."""
    return " ".join(text.split())


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class BadMessage:
    """A message (`{bucket}` is replaced by the payload bucket) and the error it must get."""

    body: str
    attributes: Mapping[str, str | bytes]
    error: str
    config: Mapping[str, Any] = field(default_factory=dict)
    payload: bytes | None = None  # stored at s3://{bucket}/payload first


RAW = {"objectType": "rawContent"}
ASSET = {"objectType": "dataAsset"}
SEVEN_OF_YOUR_OWN = {f"custom{i}": "x" for i in range(7)}

MESSAGE_CASES = [
    pytest.param(
        BadMessage('{"dataAssetName": "a.b", "data": [', ASSET, "body is not valid JSON"),
        id="body-malformed-json",
    ),
    pytest.param(
        BadMessage("[1, 2]", ASSET, "body (DataAsset): expected a JSON object, got list"),
        id="body-json-array-for-an-object",
    ),
    pytest.param(
        BadMessage(
            '{"dataAssetName": "a.b", "dataAssetCountry": "DE"}',
            ASSET,
            "body (DataAsset).data: required field is missing",
        ),
        id="body-missing-field",
    ),
    pytest.param(
        BadMessage(
            '{"dataAssetName": "a.b", "dataAssetCountry": "DE", "data": [{"x": 1}], '
            '"dataAssetUniqueKeys": ["id"]}',
            ASSET,
            "body (DataAsset).data[0]: key(s) ['id'] missing",
        ),
        id="body-unique-key-missing-in-a-record",
    ),
    pytest.param(
        BadMessage(
            '{"url": "ftp://example.org/file"}',
            {"objectType": "urlResource"},
            "body (UrlResource).url: must be an absolute http(s):// or s3:// URL",
        ),
        id="body-url-with-wrong-scheme",
    ),
    pytest.param(
        BadMessage(
            '{"url": "https://example.org", "auth": {"type": "magic", "token": "planted-token"}}',
            {"objectType": "urlResource"},
            "body (UrlResource).auth.type: must be one of ['basic', 'bearer', 'header']",
        ),
        id="body-auth-of-unknown-type",
    ),
    pytest.param(
        BadMessage(
            '{"dataAssetName": "a.b", "dataAssetCountry": "DE", "action": "exploded", '
            '"location": "s3://b/k"}',
            {"objectType": "updateNotification"},
            "body (UpdateNotification).action: must be one of ['created', 'updated', 'deleted']",
        ),
        id="body-value-not-in-the-schema",
    ),
    pytest.param(
        BadMessage("[" * 50_000 + "]" * 50_000, ASSET, "body is JSON nested too deeply to read"),
        id="body-nested-too-deeply",
    ),
    pytest.param(
        BadMessage(
            '{"Type": "Notification", "TopicArn": "arn:t", "Message": {"not": "text"}}',
            {},  # as SNS delivers it without raw delivery: every attribute is inside
            "(SNS envelope): Message is a dict, not text",
        ),
        id="body-sns-envelope-without-text",
    ),
    pytest.param(
        BadMessage("x", {"objectType": "spreadsheet"}, "objectType='spreadsheet' is not one of"),
        id="attribute-unknown-object-type",
    ),
    pytest.param(BadMessage("x", {}, "attribute 'objectType' is missing"), id="attributes-missing"),
    pytest.param(
        BadMessage("x", {"objectType": b"rawContent"}, "attribute 'objectType' is missing"),
        id="attribute-binary-instead-of-string",
    ),
    pytest.param(
        BadMessage(
            "x", {**RAW, "payloadType": "DISK"}, "payloadType='DISK' is not one of ['INLINE', 'S3']"
        ),
        id="attribute-unknown-payload-type",
    ),
    pytest.param(
        BadMessage(
            "x", {**RAW, "payloadType": "S3"}, "payloadType is S3 but payloadS3Path is missing"
        ),
        id="attribute-s3-payload-without-path",
    ),
    pytest.param(
        BadMessage(
            "x",
            {**RAW, "payloadType": "S3", "payloadS3Path": "https://bucket/key"},
            "payloadS3Path: expected an s3://bucket/key URI, got 'https://bucket/key'",
        ),
        id="attribute-payload-path-not-an-s3-uri",
    ),
    pytest.param(
        BadMessage(
            "x",
            {**RAW, "payloadType": "S3", "payloadS3Path": "s3://nowhere-bucket/k"},
            "payload s3://nowhere-bucket/k cannot be retrieved",
        ),
        id="attribute-payload-path-to-a-missing-object",
    ),
    pytest.param(
        BadMessage(
            '["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b"}]',
            RAW,
            "malformed extended-client S3 pointer body",
        ),
        id="body-malformed-s3-pointer",
    ),
    pytest.param(
        BadMessage(
            '{"dataAssetName": "a.b", "dataAssetCountry": "DE", "data": []}',
            {**ASSET, "payloadMimeType": "text/csv"},
            "objectType=dataAsset needs a JSON body, but payloadMimeType is 'text/csv'",
        ),
        id="mime-type-not-json-for-a-json-object-type",
    ),
    pytest.param(
        BadMessage(
            "x",
            {**RAW, "payloadType": "S3", "payloadS3Path": "s3://{bucket}/payload"},
            "/payload is not UTF-8 text",
            payload=b"caf\xe9 \xff\xfe latin-1, not UTF-8",
        ),
        id="payload-non-utf8-bytes",
    ),
    pytest.param(
        BadMessage(
            "y" * 300_000,
            RAW,
            "over SNS's 262144-byte limit, and no OUTPUT_PAYLOAD_S3_PATH is configured",
            config={"OUTPUT_PAYLOAD_S3_PATH": ""},
        ),
        id="payload-oversized-output-with-nowhere-to-offload",
    ),
    pytest.param(
        BadMessage(
            "x",
            {**RAW, **SEVEN_OF_YOUR_OWN},
            "output 0: 11 message attributes",
        ),
        id="attributes-too-many-on-the-output",
    ),
]


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_bad_message_fails_clearly_and_stays_in_the_queue(
    wiring: Wiring, caplog: pytest.LogCaptureFixture, case: BadMessage
) -> None:
    careful.configure(wiring.config(ComponentKind.PIPELINE, **case.config))
    if case.payload is not None:
        boto3.client("s3").put_object(Bucket=wiring.bucket, Key="payload", Body=case.payload)
    attributes = {k: _with_bucket(v, wiring.bucket) for k, v in case.attributes.items()}
    message_id = _send_raw(wiring, case.body, attributes)

    outcome = careful.runOnce()

    assert outcome.failed == [message_id]
    assert wiring.visible_input_count() == 1
    [failure] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert failure.getMessage().startswith(f"message {message_id} failed")
    assert case.error in failure.getMessage()
    assert "moves to the dead-letter queue after maxReceiveCount" in failure.getMessage()
    assert not failure.exc_info and "Traceback" not in caplog.text


def _with_bucket(value: str | bytes, bucket: str) -> str | bytes:
    return value.replace("{bucket}", bucket) if isinstance(value, str) else value


def test_task_exception_is_logged_with_its_traceback_and_kept(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    @pylon.PipelineComponent
    def crashing(message, config):  # type: ignore[no-untyped-def]
        return {}["missing"]

    crashing.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = _send_raw(wiring, "x", RAW)

    assert crashing.runOnce().failed == [message_id]
    failure = next(r for r in caplog.records if r.levelname == "ERROR")
    # A bug in the task is not a message Pylon can word for it: the trace is the message.
    assert "KeyError" in failure.getMessage() and failure.exc_info is not None


def test_task_returning_garbage_is_a_task_error(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    @pylon.PipelineComponent
    def confused(message, config):  # type: ignore[no-untyped-def]
        return "not a result"

    confused.configure(wiring.config(ComponentKind.PIPELINE))
    _send_raw(wiring, "x", RAW)

    assert len(confused.runOnce().failed) == 1
    assert "task confused returned a str" in caplog.text
    assert wiring.visible_input_count() == 1


def test_task_setting_a_non_text_attribute_is_a_task_error_and_nothing_is_sent(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    """Pylon's clients do not have botocore check the requests again, so Pylon must."""

    @pylon.PipelineComponent
    def counting(message, config):  # type: ignore[no-untyped-def]
        return pylon.result([message.copy(attributes={"rows": 42})])

    counting.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = _send_raw(wiring, "x", RAW)

    assert counting.runOnce().failed == [message_id]
    failure = next(r for r in caplog.records if r.levelname == "ERROR")
    assert "output 0: message attribute 'rows' must be a str, got int" in failure.getMessage()
    assert wiring.visible_input_count() == 1
    assert wiring.observer.receive(10, wait_seconds=1) == []


# ---------------------------------------------------------------- Lambda event shapes

Mutation = Callable[[dict[str, Any]], None]

LAMBDA_CASES = [
    pytest.param(
        lambda r: r.update(messageAttributes=["objectType"]),
        "message attributes are a list",
        id="lambda-attributes-not-an-object",
    ),
    pytest.param(
        lambda r: r["messageAttributes"].update(
            objectType={"dataType": "String", "stringValue": 7}
        ),
        "message attribute 'objectType' has a non-text value",
        id="lambda-attribute-value-not-text",
    ),
    pytest.param(
        lambda r: r.pop("body"),
        "messageId, receiptHandle and body must be strings",
        id="lambda-record-without-body",
    ),
    pytest.param(
        lambda r: r["attributes"].update(ApproximateReceiveCount="many"),
        "ApproximateReceiveCount 'many' is not a number",
        id="lambda-receive-count-not-a-number",
    ),
]


def _lambda_event(wiring: Wiring) -> dict[str, Any]:
    """An SQS event for two real messages of the input queue (left in flight)."""
    _send_raw(wiring, "first", RAW)
    _send_raw(wiring, "second", RAW)
    messages = wiring.input_queue.receive(10, wait_seconds=1)
    assert len(messages) == 2
    return dict(
        sqs_event_from_messages(messages, "arn:aws:sqs:us-east-1:000000000000:in", "us-east-1")
    )


@pytest.mark.parametrize(("mutate", "error"), LAMBDA_CASES)
def test_malformed_lambda_record_is_reported_alone_and_kept(
    wiring: Wiring, caplog: pytest.LogCaptureFixture, mutate: Mutation, error: str
) -> None:
    careful.configure(wiring.config(ComponentKind.PIPELINE))
    event = _lambda_event(wiring)
    bad: LambdaSqsRecord = event["Records"][0]
    mutate(bad)  # type: ignore[arg-type]

    response = careful.lambda_handler(event, LambdaContext("careful"))

    # Reported, so the event source mapping keeps it; the good record is not redone.
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    [failure] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert error in failure.getMessage() and bad["messageId"] in failure.getMessage()
    assert not failure.exc_info
    assert wiring.visible_input_count() == 2  # Lambda deletes; the handler never does


def test_lambda_record_without_a_message_id_fails_the_whole_batch(wiring: Wiring) -> None:
    careful.configure(wiring.config(ComponentKind.PIPELINE))
    event = _lambda_event(wiring)
    event["Records"][0].pop("messageId")

    with pytest.raises(MessageDecodeError, match="has no messageId; failing the whole batch"):
        careful.lambda_handler(event, LambdaContext("careful"))

    assert wiring.visible_input_count() == 2


# ---------------------------------------------------------------- config values


def _config(wiring: Wiring, **changes: Any) -> str:
    values = dict(wiring.config(ComponentKind.PIPELINE))
    values.update(changes)
    return json.dumps({k: v for k, v in values.items() if v is not None})


CONFIG_CASES = [
    pytest.param(
        lambda w: '{"INPUT_QUEUE_NAME": ',
        "PYLON_CONFIG is not valid JSON: Expecting value at line 1 column 21",
        id="config-not-json",
    ),
    pytest.param(
        lambda w: _config(w, OUTPUT_TOPIC_ARN=None),
        "PYLON_CONFIG key OUTPUT_TOPIC_ARN missing (required for PipelineComponent)",
        id="config-required-key-missing",
    ),
    pytest.param(
        lambda w: _config(w, OUTPUT_TOPIC_ARN="my-topic"),
        "OUTPUT_TOPIC_ARN is malformed: 'my-topic' is not an SNS topic ARN",
        id="config-malformed-topic-arn",
    ),
    pytest.param(
        lambda w: _config(w, MAX_MESSAGES=50),
        "config key MAX_MESSAGES must be between 1 and 10, got 50",
        id="config-number-out-of-range",
    ),
    pytest.param(
        lambda w: _config(w, VISIBILITY_TIMEOUT="soon"),
        "config key VISIBILITY_TIMEOUT must be an integer, got 'soon'",
        id="config-number-not-a-number",
    ),
    pytest.param(
        lambda w: _config(w, TASK_TIMEOUT_SECONDS=-5),
        "config key TASK_TIMEOUT_SECONDS must be between 0 and 43200, got -5",
        id="config-negative-time-limit",
    ),
    pytest.param(
        lambda w: _config(w, LOG_LEVEL="LOUD"),
        "config key LOG_LEVEL must be one of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']",
        id="config-unknown-log-level",
    ),
    pytest.param(
        lambda w: _config(w, PUBLIC_CONFIG_KEYS="all"),
        "config key PUBLIC_CONFIG_KEYS must be a list of key names, got 'all'",
        id="config-public-keys-not-a-list",
    ),
    pytest.param(
        lambda w: "/pylon/nowhere/config",
        "SSM parameter '/pylon/nowhere/config' does not exist",
        id="config-ssm-parameter-missing",
    ),
]


@pytest.mark.parametrize(("pylon_config", "error"), CONFIG_CASES)
def test_bad_config_stops_the_component_at_start_with_one_line(
    wiring: Wiring,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    pylon_config: Callable[[Wiring], str],
    error: str,
) -> None:
    @pylon.PipelineComponent
    def starting(message, config):  # type: ignore[no-untyped-def]
        return pylon.result([message], {})

    _send_raw(wiring, "waiting", RAW)
    monkeypatch.setenv("PYLON_CONFIG", pylon_config(wiring))

    with pytest.raises(SystemExit) as stopped:
        starting.runForever()

    assert stopped.value.code == CONFIG_EXIT_CODE
    [line] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert line.getMessage().startswith("starting cannot start: ")
    assert error in line.getMessage() and not line.exc_info
    assert wiring.visible_input_count() == 1


def test_a_component_process_with_bad_config_prints_one_line_and_exits_78(
    wiring: Wiring,
) -> None:
    _send_raw(wiring, "waiting", RAW)

    process = run_component_process(
        "tests.runtime.hanging_component", _config(wiring, MAX_MESSAGES=0)
    )

    assert process.returncode == CONFIG_EXIT_CODE
    assert (
        process.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "hangingTask cannot start: config key MAX_MESSAGES must be between 1 and 10, got 0"
        )
    )
    assert "Traceback" not in process.stderr
    assert wiring.visible_input_count() == 1


# ---------------------------------------------------------------- spec files

SPEC_CASES = [
    pytest.param(
        b"name: broken\ncomponents: {a: [\n",
        "not valid YAML at line 3 column 1",
        id="spec-yaml-syntax",
    ),
    pytest.param(
        b"name: caf\xe9\ncomponents: {}\n",
        "not UTF-8 text (byte 0xe9 at offset 9); save the spec as UTF-8",
        id="spec-non-utf8-bytes",
    ),
    pytest.param(
        b"name: x\ncomponent: {}\n",
        "(top level): unknown key(s) ['component']",
        id="spec-unknown-key",
    ),
    pytest.param(
        b"name: x\ncomponents:\n  a: {type: pipeline, entrypoint: 'm:f', subscribe: [{topic: nope}]}\n",
        "components.a.subscribe[0].topic: topic 'nope' is not any component's output_topic",
        id="spec-subscription-to-an-unknown-topic",
    ),
    pytest.param(
        b"name: x\ncomponents:\n  a: {type: pipeline, entrypoint: 'not an entrypoint'}\n",
        "components.a.entrypoint",
        id="spec-malformed-entrypoint",
    ),
    pytest.param(
        b"name: x\ncomponents:\n  a: {type: sink, entrypoint: 'm:f', max_receive_count: 0}\n",
        "components.a.max_receive_count",
        id="spec-max-receive-count-out-of-range",
    ),
    pytest.param(
        b"name: x\ntopics: [plain]\ncomponents:\n  a: {type: sink, entrypoint: 'm:f', fifo: true, "
        b"subscribe: [plain]}\n",
        "the FIFO queue 'a-in.fifo' cannot subscribe to the standard topic 'plain': AWS refuses it",
        id="spec-fifo-queue-on-a-standard-topic",
    ),
    pytest.param(
        b"name: x\ncomponents:\n  a: {type: sink, entrypoint: 'm:f', fifo: true, input_queue: q}\n",
        "components.a.input_queue: the component is `fifo: true`, so its queue name must end in .fifo",
        id="spec-fifo-queue-name-without-suffix",
    ),
    pytest.param(
        b"name: x\ncomponents:\n  a: {type: sink, entrypoint: 'm:f', "
        b"content_based_deduplication: true}\n",
        "only a FIFO queue de-duplicates; 'a-in' is a standard queue",
        id="spec-content-deduplication-on-a-standard-queue",
    ),
]


@pytest.mark.parametrize(("content", "error"), SPEC_CASES)
def test_bad_spec_is_one_error_line_and_provisions_nothing(
    aws_env: AwsEndpoint, tmp_path: Path, content: bytes, error: str
) -> None:
    spec_file = tmp_path / "pipeline.yaml"
    spec_file.write_bytes(content)

    result = CliRunner().invoke(
        app, ["provision", str(spec_file), "--endpoint", aws_env.endpoint_url]
    )

    assert result.exit_code == 1
    assert error in _one_line(result.output) and "Traceback" not in result.output
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


# ---------------------------------------------------------------- capture lines

GOOD_LINE = (
    (Path(__file__).parents[2] / "examples" / "readme" / "greetings.capture.jsonl")
    .read_bytes()
    .splitlines()[0]
)

CAPTURE_CASES = [
    pytest.param(GOOD_LINE[:120], "line 2: not valid JSON", id="capture-truncated-line"),
    pytest.param(
        b'["v", 1]', "line 2: expected a JSON object, got list", id="capture-not-an-object"
    ),
    pytest.param(
        GOOD_LINE.replace(b'"v":1', b'"v":7'),
        "line 2: capture format v7 is newer than this Pylon reads (v1); upgrade pylon-pipelines",
        id="capture-newer-format-version",
    ),
    pytest.param(
        GOOD_LINE.replace(b'"body":"hi",', b""),
        "line 2: field(s) ['body'] missing",
        id="capture-missing-body",
    ),
    pytest.param(
        GOOD_LINE.replace(b'"body":"hi"', b'"body":{"text":"hi"}'),
        "line 2: 'body' must be a string",
        id="capture-body-not-text",
    ),
    pytest.param(
        GOOD_LINE.replace(b'"capturedAt":"2024-05-01T09:01:00.040Z"', b'"capturedAt":"yesterday"'),
        "'yesterday' is not an ISO 8601 date-time",
        id="capture-bad-timestamp",
    ),
    pytest.param(
        GOOD_LINE.replace(b'"body":"hi"', b'"body":"caf\xe9"'),  # Latin-1, not UTF-8
        "line 2: not UTF-8 text",
        id="capture-non-utf8-bytes",
    ),
]


@pytest.mark.parametrize(("bad_line", "error"), CAPTURE_CASES)
def test_bad_capture_line_names_its_line_and_sends_nothing_unless_skipped(
    aws_env: AwsEndpoint, tmp_path: Path, bad_line: bytes, error: str
) -> None:
    queue_url = boto3.client("sqs").create_queue(QueueName="replayed")["QueueUrl"]
    capture = tmp_path / "traffic.jsonl"
    capture.write_bytes(b"\n".join([GOOD_LINE, bad_line, GOOD_LINE]) + b"\n")
    replay = ["replay", str(capture), "--to", "replayed", "--endpoint", aws_env.endpoint_url]

    refused = CliRunner().invoke(app, replay)
    nothing_sent = queue_depth(queue_url).visible
    skipped = CliRunner().invoke(app, [*replay, "--skip-bad-lines"])

    assert refused.exit_code == 1
    assert error in _one_line(refused.output) and "Traceback" not in refused.output
    assert nothing_sent == 0
    assert skipped.exit_code == 0, skipped.output
    assert "line 2" in _one_line(skipped.output)
    assert queue_depth(queue_url).visible == 2


# ---------------------------------------------------------------- endpoints and targets


@pytest.fixture
def not_aws() -> Iterator[str]:
    """A loopback HTTP server that is no AWS endpoint (answers every request with 501)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


Endpoints = Mapping[str, str]
ENDPOINT_CASES = [
    pytest.param(
        lambda e: ["send", "q", "--body", "x", "--endpoint", "http://127.0.0.1:9"],
        "cannot reach the AWS endpoint http://127.0.0.1:9/: nothing answers there",
        id="endpoint-unreachable",
    ),
    pytest.param(
        lambda e: ["send", "q", "--body", "x", "--endpoint", e["not_aws"]],
        "answered GetQueueUrl with HTTP 501 and a page that is no AWS response",
        id="endpoint-not-an-aws-emulator",
    ),
    pytest.param(
        lambda e: ["send", "q", "--body", "x", "--endpoint", "https://sqs.eu-west-1.amazonaws.com"],
        "Pylon refuses to touch it by default",
        id="endpoint-remote-without-allow-remote",
    ),
    pytest.param(
        lambda e: ["send", "no-such-queue", "--body", "x", "--endpoint", e["emulator"]],
        "no queue or topic named 'no-such-queue' at",
        id="target-no-such-queue-or-topic",
    ),
    pytest.param(
        lambda e: ["send", e["fifo_queue"], "--body", "x", "--endpoint", e["emulator"]],
        "a FIFO topic or queue needs a message group id, and none was given",
        id="send-fifo-without-a-group",
    ),
    pytest.param(
        lambda e: [
            "send",
            e["fifo_queue"],
            "--body",
            "x",
            "--group-id",
            "g" * 129,
            "--endpoint",
            e["emulator"],
        ],
        "message group id 'gggggggggggggggggggggggggggggggggggggggg'… is 129 characters; AWS takes at most 128",
        id="send-group-id-over-128-characters",
    ),
    pytest.param(
        lambda e: [
            "send",
            e["queue"],
            "--body",
            "x",
            "--group-id",
            "g",
            "--endpoint",
            e["emulator"],
        ],
        "is a standard queue or topic: a group or de-duplication id applies only to FIFO ones",
        id="send-group-id-to-a-standard-queue",
    ),
    pytest.param(
        lambda e: ["send", e["queue"], "--body", "x", "-a", "colour", "--endpoint", e["emulator"]],
        "--attribute must be NAME=VALUE, got 'colour'",
        id="send-malformed-attribute",
    ),
]


@pytest.mark.parametrize(("command", "error"), ENDPOINT_CASES)
def test_an_unusable_endpoint_or_target_is_one_error_line_and_sends_nothing(
    aws_env: AwsEndpoint,
    not_aws: str,
    command: Callable[[Endpoints], list[str]],
    error: str,
) -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="plain")["QueueUrl"]
    fifo_queue = sqs.create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})
    endpoints = {
        "emulator": aws_env.endpoint_url,
        "not_aws": not_aws,
        "queue": queue,
        "fifo_queue": fifo_queue["QueueUrl"],
    }

    with patch.dict(os.environ):  # the CLI points boto3 at its --endpoint: undo that after
        result = CliRunner().invoke(app, command(endpoints))

    assert result.exit_code in (1, 2)  # 2: typer's own usage errors
    assert error in _one_line(result.output) and "Traceback" not in result.output
    assert queue_depth(queue).visible == 0 and queue_depth(fifo_queue["QueueUrl"]).visible == 0


# ---------------------------------------------------------------- a component's own AWS access


@pylon.SinkComponent
def patient(message, config):  # type: ignore[no-untyped-def]
    return None


RUNTIME_CASES = [
    pytest.param(
        "wrong-credentials",
        "ClientError: An error occurred (InvalidClientTokenId) when calling the ReceiveMessage "
        "operation: The security token included in the request is invalid.; retrying in",
        id="runtime-wrong-credentials",
    ),
    pytest.param(
        "unreachable",
        'EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:9/"; '
        "retrying in",
        id="runtime-endpoint-unreachable",
    ),
]


@pytest.mark.parametrize(("problem", "error"), RUNTIME_CASES)
def test_a_component_that_cannot_reach_its_queue_logs_each_poll_and_loses_nothing(
    dedicated_emulator: DedicatedEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    problem: str,
    error: str,
) -> None:
    emulator = dedicated_emulator(AUTH="true")  # it checks access keys
    sqs = boto3.client("sqs")  # made before any change below: it reaches the emulator
    url = sqs.create_queue(QueueName="waiting")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url, MessageBody="x", MessageAttributes={"objectType": _attribute("rawContent")}
    )
    if problem == "wrong-credentials":
        session = boto3.session.Session(
            aws_access_key_id="AKIAIOSFODNN7WRONG00", aws_secret_access_key="wrong",
            region_name=emulator.endpoint.region,
        )  # fmt: skip
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        session = boto3.session.Session()
    patient.configure(ComponentConfig(ComponentKind.SINK, {"INPUT_QUEUE_NAME": url}), session)
    running = threading.Thread(target=patient.runForever, daemon=True)

    running.start()
    try:
        failed_polls = wait_until(
            lambda: [r for r in caplog.records if "polling" in r.getMessage()] or None,
            30,
            what="a failed poll to be logged",
        )
    finally:
        patient.stop()
        running.join(30)

    assert error in failed_polls[0].getMessage()
    assert not running.is_alive()  # it kept polling until asked to stop
    visible = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "1"

"""Large payloads exchanged with the official Amazon SQS/SNS extended client libraries.

Both pointer formats (`software.amazon.payloadoffloading.PayloadS3Pointer` with
`ExtendedPayloadSize`, and the legacy `com.amazon.sqs.javamessaging.MessageS3Pointer`
with `SQSLargePayloadSize`), both directions, on every path a Pylon component reads:
an SQS poll, a raw SNS delivery, a non-raw SNS envelope, and a Lambda event from the
emulator's own event source mapping. The libraries patch boto3 when imported, so they
run in their own interpreter (`extended_client_peer`), and so does the component.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from harness.provision import provision
from harness.run.lambda_deploy import LambdaRunner
from harness.spec import spec_from_dict
from harness.testing.recorder import TopicRecorder
from pylon import ObjectType
from pylon.config import ComponentKind
from pylon.models.messages import BaseMessage
from tests.conftest import Wiring
from tests.interop.extended_client_peer import digest, large_body

ROOT = Path(__file__).resolve().parents[2]
PEER = "tests.interop.extended_client_peer"
COMPONENTS = "tests.interop.extended_client_components"
FORMATS = ["extended", "legacy"]
# Over SNS's 256 KiB: the extended clients offload it, and so does Pylon.
SIZE = 300_000


def peer(*args: object) -> str:
    done = subprocess.run(
        [sys.executable, "-m", PEER, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def component(wiring: Wiring) -> Iterator[Callable[..., None]]:
    """Start a component of extended_client_components as its own runForever process."""
    processes: list[subprocess.Popen[str]] = []

    def start(name: str, **config: object) -> None:
        pylon_config = dict(wiring.config(ComponentKind.PIPELINE, **config))
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", COMPONENTS, name],
                cwd=ROOT,
                env={**os.environ, "PYLON_CONFIG": json.dumps(pylon_config)},
                stderr=subprocess.PIPE,
                text=True,
            )
        )

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr


def replies(wiring: Wiring, count: int) -> list[dict[str, object]]:
    outputs = wiring.collect(count * 2, timeout=30)  # each reply comes with its ingestion step
    return [json.loads(str(m.body)) for m in outputs if m.objectType is ObjectType.RAW_CONTENT]


EXPECTED = digest(large_body(SIZE))


# ---------------------------------------------------------------- their messages into Pylon


@pytest.mark.slow
@pytest.mark.parametrize("pointer_format", FORMATS)
def test_a_large_message_from_the_sqs_extended_client_reaches_the_task_whole(
    wiring: Wiring, component: Callable[..., None], pointer_format: str
) -> None:
    peer("sqs-send", wiring.input_queue.url, wiring.bucket, SIZE, pointer_format)
    component("digest")

    assert replies(wiring, 1) == [EXPECTED]


@pytest.mark.slow
@pytest.mark.parametrize("raw_delivery", [True, False], ids=["raw", "sns-envelope"])
@pytest.mark.parametrize("pointer_format", FORMATS)
def test_a_large_message_from_the_sns_extended_client_reaches_the_task_whole(
    wiring: Wiring, component: Callable[..., None], pointer_format: str, raw_delivery: bool
) -> None:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = sns.create_topic(Name=f"producer-{pointer_format}")["TopicArn"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=wiring.input_queue.url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": str(raw_delivery).lower()},
    )

    peer("sns-publish", topic_arn, wiring.bucket, SIZE, pointer_format)
    component("digest")

    assert replies(wiring, 1) == [EXPECTED]


@pytest.mark.slow
def test_a_legacy_pointer_in_a_lambda_event_is_resolved(
    aws_env: object, boto_session: boto3.session.Session
) -> None:
    spec = spec_from_dict(
        {
            "name": "interop",
            "buckets": ["producer-payloads"],
            "components": {
                "digest": {
                    "type": "pipeline",
                    "entrypoint": f"{COMPONENTS}:digest_payload",
                    "mode": "lambda",
                }
            },
        }
    )
    provisioned = provision(spec, boto_session).components["digest"]
    assert provisioned.queue_url and provisioned.output_topic_arn
    recorder = TopicRecorder(provisioned.output_topic_arn, boto_session)
    try:
        with LambdaRunner([provisioned], aws_env):  # type: ignore[arg-type]
            peer("sqs-send", provisioned.queue_url, "producer-payloads", SIZE, "legacy")
            (reply,) = recorder.wait_for(
                1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60
            )
    finally:
        recorder.close()
    assert json.loads(str(reply.body)) == EXPECTED


# ---------------------------------------------------------------- Pylon's messages into theirs


@pytest.mark.slow
@pytest.mark.parametrize("pointer_format", FORMATS)
def test_the_sqs_extended_client_reads_a_large_pylon_output(
    wiring: Wiring, component: Callable[..., None], pointer_format: str
) -> None:
    wiring.send(BaseMessage(body=str(SIZE)))
    component("enlarge", PAYLOAD_POINTER_FORMAT=pointer_format)

    # The observer queue gets the output and its ingestion step; both through their client.
    lines = [
        json.loads(line)
        for line in peer("sqs-receive", wiring.observer.url, 2, pointer_format).splitlines()
    ]

    large = [line for line in lines if line["size"] == SIZE]
    assert [(line["size"], line["sha256"]) for line in large] == [
        (EXPECTED["size"], EXPECTED["sha256"])
    ]
    size_attribute = "SQSLargePayloadSize" if pointer_format == "legacy" else "ExtendedPayloadSize"
    # Their client removes its own size attribute once it has fetched the payload.
    assert size_attribute not in large[0]["attributes"]

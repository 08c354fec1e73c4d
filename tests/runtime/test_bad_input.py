"""Bad input through a running component: a clear error logged, the message never deleted."""

from __future__ import annotations

import boto3
import pytest

import pylon
from pylon.config import ComponentKind
from tests.conftest import Wiring


@pylon.PipelineComponent
def careful(message, config):  # type: ignore[no-untyped-def]
    return pylon.result([message], {})


def _send_raw(wiring: Wiring, body: str, attributes: dict[str, str]) -> str:
    response = boto3.client("sqs").send_message(
        QueueUrl=wiring.input_queue.url,
        MessageBody=body,
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )
    return str(response["MessageId"])


@pytest.mark.parametrize(
    ("body", "attributes", "expected_error"),
    [
        pytest.param(
            '{"dataAssetName": "a.b", "data": [',
            {"objectType": "dataAsset"},
            "body is not valid JSON",
            id="malformed-json-data-asset",
        ),
        pytest.param(
            "x",
            {"objectType": "spreadsheet"},
            "objectType='spreadsheet' is not one of",
            id="unknown-object-type",
        ),
        pytest.param("x", {}, "attribute 'objectType' is missing", id="missing-attributes"),
        pytest.param(
            "x",
            {"objectType": "rawContent", "payloadType": "S3"},
            "payloadType is S3 but payloadS3Path is missing",
            id="s3-payload-without-path",
        ),
        pytest.param(
            "x",
            {
                "objectType": "rawContent",
                "payloadType": "S3",
                "payloadS3Path": "s3://nowhere-bucket/k",
            },
            "payload s3://nowhere-bucket/k cannot be retrieved",
            id="payload-path-to-missing-object",
        ),
    ],
)
def test_bad_message_is_logged_clearly_and_kept(
    wiring: Wiring,
    caplog: pytest.LogCaptureFixture,
    body: str,
    attributes: dict[str, str],
    expected_error: str,
) -> None:
    careful.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = _send_raw(wiring, body, attributes)

    outcome = careful.runOnce()

    assert outcome.failed == [message_id]
    assert wiring.visible_input_count() == 1
    failure = next(r for r in caplog.records if r.levelname == "ERROR")
    assert message_id in failure.getMessage()
    assert expected_error in failure.getMessage()
    assert "dead-letter queue" in failure.getMessage()
    # A clear message, not a stack trace, for errors Pylon diagnosed itself.
    assert not failure.exc_info


def test_task_exception_is_logged_with_its_traceback_and_kept(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    @pylon.PipelineComponent
    def crashing(message, config):  # type: ignore[no-untyped-def]
        return {}["missing"]

    crashing.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = _send_raw(wiring, "x", {"objectType": "rawContent"})

    assert crashing.runOnce().failed == [message_id]
    failure = next(r for r in caplog.records if r.levelname == "ERROR")
    assert "KeyError" in failure.getMessage() and failure.exc_info is not None


def test_task_returning_garbage_is_a_task_error(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    @pylon.PipelineComponent
    def confused(message, config):  # type: ignore[no-untyped-def]
        return "not a result"

    confused.configure(wiring.config(ComponentKind.PIPELINE))
    _send_raw(wiring, "x", {"objectType": "rawContent"})

    assert len(confused.runOnce().failed) == 1
    assert "task confused returned a str" in caplog.text

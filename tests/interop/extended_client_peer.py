"""An application using the official Amazon SQS/SNS extended client libraries.

Run in its own interpreter by tests/interop/test_extended_clients.py: importing
`sqs_extended_client` or `sns_extended_client` replaces boto3's Session class for the
whole process, which must never happen inside the test process itself.

    python -m tests.interop.extended_client_peer sqs-send QUEUE_URL BUCKET SIZE FORMAT
    python -m tests.interop.extended_client_peer sns-publish TOPIC_ARN BUCKET SIZE FORMAT
    python -m tests.interop.extended_client_peer sqs-receive QUEUE_URL COUNT FORMAT

FORMAT is `extended` (the libraries' default pointer) or `legacy`
(`use_legacy_attribute = True`). Sent bodies are `large_body(SIZE)`; received ones are
printed as one JSON line each: {"size", "sha256", "attributes"}.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time

OBJECT_TYPE = {"objectType": {"DataType": "String", "StringValue": "rawContent"}}


def large_body(size: int) -> str:
    """A deterministic text of `size` UTF-8 bytes (the same on both sides of a test)."""
    unit = "pylon-interop-"
    return (unit * (size // len(unit) + 1))[:size]


def digest(text: str) -> dict[str, object]:
    return {"size": len(text.encode()), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def _client(service: str, bucket: str | None, pointer_format: str):  # type: ignore[no-untyped-def]
    if service == "sqs":
        import sqs_extended_client  # noqa: F401  (patches boto3)
    else:
        import sns_extended_client  # noqa: F401  (patches boto3)
    import boto3

    client = boto3.client(service)
    if bucket:
        client.large_payload_support = bucket
    client.use_legacy_attribute = pointer_format == "legacy"
    return client


def sqs_send(queue_url: str, bucket: str, size: int, pointer_format: str) -> None:
    sqs = _client("sqs", bucket, pointer_format)
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=large_body(size), MessageAttributes=dict(OBJECT_TYPE)
    )


def sns_publish(topic_arn: str, bucket: str, size: int, pointer_format: str) -> None:
    sns = _client("sns", bucket, pointer_format)
    sns.publish(TopicArn=topic_arn, Message=large_body(size), MessageAttributes=dict(OBJECT_TYPE))


def sqs_receive(queue_url: str, count: int, pointer_format: str) -> None:
    """Receive `count` messages through the extended client, or fail.

    Nothing is deleted: the client's delete_message recovers the receipt handle by
    splitting its own marked handle at the last "-", and the emulator's handles contain
    dashes (AWS's do not), so it would send a truncated handle.
    """
    sqs = _client("sqs", None, pointer_format)
    deadline = time.monotonic() + 30
    received = 0
    while received < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"received {received} of {count} messages within 30 s")
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in response.get("Messages", []):
            attributes = sorted(message.get("MessageAttributes", {}))
            print(json.dumps({**digest(message["Body"]), "attributes": attributes}), flush=True)
            received += 1


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "sqs-send":
        sqs_send(args[0], args[1], int(args[2]), args[3])
    elif command == "sns-publish":
        sns_publish(args[0], args[1], int(args[2]), args[3])
    elif command == "sqs-receive":
        sqs_receive(args[0], int(args[1]), args[2])
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

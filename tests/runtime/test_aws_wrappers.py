"""The thin AWS wrappers in `pylon.aws`, end to end against the emulator (no boto3 mocks)."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.endpoints import AwsEndpoint
from harness.pipeline.activity import queue_depth
from pylon.aws import (
    DynamoTable,
    LambdaFunction,
    LambdaInvocationError,
    RdsDatabase,
    S3Store,
    SnsTopic,
    SqsQueue,
    SsmParameters,
)
from pylon.aws.batching import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES
from pylon.aws.clients import new_client
from pylon.errors import ConfigError, PayloadError, PublishError, PylonError
from pylon.s3_pointer import S3Location
from pylon.wire import SqsMessage, WireMessage
from tests.conftest import Wiring

Session = boto3.session.Session


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll `condition` until it holds; fail naming `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.1)


def _receive(queue: SqsQueue, count: int, timeout: float = 10, **kwargs: Any) -> list[SqsMessage]:
    """Receive (without deleting) until `count` messages are in hand or the deadline passes."""
    received: list[SqsMessage] = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        received.extend(queue.receive(10, wait_seconds=1, **kwargs))
    assert len(received) == count, f"expected {count} messages, got {len(received)}"
    return received


# ------------------------------------------------------------------------------------ SQS


@pytest.fixture
def queue(boto_session: Session) -> SqsQueue:
    """A queue whose visibility timeout outlasts every test, so only release() frees a message."""
    name = f"wrapped-{_suffix()}"
    boto_session.client("sqs").create_queue(QueueName=name, Attributes={"VisibilityTimeout": "300"})
    return SqsQueue(name)


def test_sqs_send_returns_ids_in_order_and_receive_gets_bodies_and_attributes(
    queue: SqsQueue,
) -> None:
    messages = [WireMessage(f"body-{i}", {"objectType": "RAW_CONTENT"}) for i in range(12)]

    ids = queue.send(messages)

    assert len(ids) == 12 and all(ids) and len(set(ids)) == 12
    received = _receive(queue, 12)
    by_id = {m["MessageId"]: m for m in received}
    for index, message_id in enumerate(ids):
        raw = by_id[message_id]
        assert raw["Body"] == f"body-{index}"
        assert raw["MessageAttributes"]["objectType"]["StringValue"] == "RAW_CONTENT"


def test_sqs_delete_accepts_duplicate_receipt_handles_in_one_call(
    queue: SqsQueue, boto_session: Session
) -> None:
    queue.send([WireMessage("a"), WireMessage("b"), WireMessage("c")])
    handles = [m["ReceiptHandle"] for m in _receive(queue, 3)]

    queue.delete([handles[0], handles[0], handles[1], handles[2], handles[1]])

    assert queue_depth(queue.url, boto_session).total == 0


def test_sqs_delete_of_more_than_ten_handles_removes_them_all(
    queue: SqsQueue, boto_session: Session
) -> None:
    queue.send([WireMessage(str(i)) for i in range(13)])
    handles = [m["ReceiptHandle"] for m in _receive(queue, 13)]

    queue.delete(handles + handles[:4])

    assert queue_depth(queue.url, boto_session).total == 0


def test_sqs_release_makes_a_received_message_visible_again(queue: SqsQueue) -> None:
    [message_id] = queue.send([WireMessage("come back")])
    [first] = _receive(queue, 1)
    assert queue.receive(10, wait_seconds=0) == []

    queue.release([first["ReceiptHandle"], first["ReceiptHandle"]])

    [again] = _receive(queue, 1)
    assert again["MessageId"] == message_id
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_sqs_queue_addressed_by_url_needs_no_lookup(queue: SqsQueue) -> None:
    by_url = SqsQueue(queue.url)

    by_url.send([WireMessage("via url")])

    assert [m["Body"] for m in _receive(queue, 1)] == ["via url"]


def test_sqs_missing_queue_raises_pylon_error_naming_the_queue(aws_env: AwsEndpoint) -> None:
    missing = SqsQueue("no-such-queue")

    with pytest.raises(PylonError, match="'no-such-queue' does not exist"):
        missing.send([WireMessage("x")])


# ------------------------------------------------------------------------------------ SNS


class _PublishBatchRecorder:
    """Records the entries of every PublishBatch request a real client sends."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.batches.append(list(params["PublishBatchRequestEntries"]))


def _recording_topic(arn: str) -> tuple[SnsTopic, _PublishBatchRecorder]:
    client = new_client("sns")
    recorder = _PublishBatchRecorder()
    client.meta.events.register("provide-client-params.sns.PublishBatch", recorder)
    return SnsTopic(arn, client), recorder


def _entry_bytes(entry: dict[str, Any]) -> int:
    attributes = entry.get("MessageAttributes", {})
    return len(entry["Message"].encode()) + sum(
        len(name.encode()) + len(value["DataType"]) + len(value["StringValue"].encode())
        for name, value in attributes.items()
    )


def test_sns_publish_of_25_messages_uses_batches_of_at_most_ten_and_delivers_all(
    wiring: Wiring,
) -> None:
    topic, recorder = _recording_topic(wiring.topic_arn)
    bodies = [f"message-{i}" for i in range(25)]

    topic.publish([WireMessage(b, {"objectType": "RAW_CONTENT"}) for b in bodies])

    assert [len(b) for b in recorder.batches] == [10, 10, 5]
    delivered = wiring.collect_raw(wiring.observer, 25)
    assert sorted(m.body for m in delivered) == sorted(bodies)
    assert all(m.attributes == {"objectType": "RAW_CONTENT"} for m in delivered)


def test_sns_publish_splits_batches_that_would_exceed_256_kib_in_total(wiring: Wiring) -> None:
    topic, recorder = _recording_topic(wiring.topic_arn)
    # Five 100 KiB messages: two fit in one 256 KiB request, three do not.
    bodies = [f"{i}:" + "x" * (100 * 1024) for i in range(5)]

    topic.publish([WireMessage(b) for b in bodies])

    assert [len(b) for b in recorder.batches] == [2, 2, 1]
    for batch in recorder.batches:
        assert len(batch) <= MAX_BATCH_ENTRIES
        assert sum(_entry_bytes(e) for e in batch) <= MAX_BATCH_BYTES
    delivered = wiring.collect_raw(wiring.observer, 5)
    assert sorted(m.body for m in delivered) == sorted(bodies)


def test_sns_failed_entries_raise_publish_error_naming_topic_and_entries(
    boto_session: Session,
) -> None:
    # A FIFO topic rejects each entry without a MessageGroupId: a per-entry, sender fault.
    arn = boto_session.client("sns").create_topic(
        Name=f"strict-{_suffix()}.fifo", Attributes={"FifoTopic": "true"}
    )["TopicArn"]

    with pytest.raises(PublishError) as raised:
        SnsTopic(arn).publish([WireMessage("a"), WireMessage("b")])

    text = str(raised.value)
    assert arn in text
    assert "failed for 2 entries" in text
    assert "entry 0" in text and "entry 1" in text and "MessageGroupId" in text


def test_sns_entry_over_the_size_limit_raises_publish_error(wiring: Wiring) -> None:
    too_big = WireMessage("x" * (MAX_BATCH_BYTES + 1))

    with pytest.raises(PublishError, match=r"failed for 1 entries: entry 0: .*too long"):
        SnsTopic(wiring.topic_arn).publish([too_big])


def test_sns_publish_to_missing_topic_raises_publish_error_naming_the_topic(
    aws_env: AwsEndpoint,
) -> None:
    arn = f"arn:aws:sns:{aws_env.region}:000000000000:no-such-topic"

    with pytest.raises(PublishError, match="no-such-topic"):
        SnsTopic(arn).publish([WireMessage("x")])


def test_sns_publish_to_missing_topic_fails_with_a_message_naming_the_topic(
    aws_env: AwsEndpoint,
) -> None:
    arn = f"arn:aws:sns:{aws_env.region}:000000000000:no-such-topic"

    with pytest.raises((PublishError, ClientError), match=f"does not exist.*{arn}"):
        SnsTopic(arn).publish([WireMessage("x")])


# ------------------------------------------------------------------------------------- S3


@pytest.fixture
def bucket(boto_session: Session) -> str:
    name = f"store-{_suffix()}"
    boto_session.client("s3").create_bucket(Bucket=name)
    return name


def test_s3_text_round_trips_as_utf8_with_its_content_type(
    bucket: str, boto_session: Session
) -> None:
    store = S3Store()
    location = S3Location(bucket, "docs/greeting.json")

    store.put_text(location, '{"greeting": "héllo ✓"}', "application/json")

    assert store.get_text(location) == '{"greeting": "héllo ✓"}'
    head = boto_session.client("s3").head_object(Bucket=bucket, Key="docs/greeting.json")
    assert head["ContentType"] == "application/json"


def test_s3_bytes_round_trip_unchanged(bucket: str) -> None:
    store = S3Store()
    location = S3Location(bucket, "blobs/all-bytes.bin")
    data = bytes(range(256)) * 4

    store.put_bytes(location, data, "application/octet-stream")

    assert store.get_bytes(location) == data
    assert store.exists(location)


def test_s3_non_utf8_object_read_as_text_raises_payload_error_naming_the_uri(bucket: str) -> None:
    store = S3Store()
    location = S3Location(bucket, "blobs/latin1.txt")
    store.put_bytes(location, "café".encode("latin-1"), "text/plain")

    with pytest.raises(PayloadError, match=f"s3://{bucket}/blobs/latin1.txt is not UTF-8"):
        store.get_text(location)


def test_s3_missing_object_raises_payload_error_naming_the_s3_uri(bucket: str) -> None:
    store = S3Store()
    location = S3Location(bucket, "nothing/here.txt")

    assert not store.exists(location)
    with pytest.raises(
        PayloadError, match=f"cannot read s3://{bucket}/nothing/here.txt: NoSuchKey"
    ):
        store.get_text(location)


def test_s3_write_to_missing_bucket_raises_payload_error_naming_the_s3_uri(
    aws_env: AwsEndpoint,
) -> None:
    location = S3Location(f"absent-{_suffix()}", "k.txt")

    with pytest.raises(PayloadError, match=f"cannot write {location.uri}: NoSuchBucket"):
        S3Store().put_text(location, "x")


def test_s3_list_keys_returns_only_keys_under_the_prefix(bucket: str) -> None:
    store = S3Store()
    for key in ("data/a.json", "data/b.json", "data/deep/c.json", "other/d.json", "database"):
        store.put_text(S3Location(bucket, key), key)

    keys = store.list_keys(S3Location(bucket, "data/"))

    assert sorted(keys) == ["data/a.json", "data/b.json", "data/deep/c.json"]
    assert store.list_keys(S3Location(bucket, "missing/")) == []


# ------------------------------------------------------------------------------------ SSM


def test_ssm_string_parameter_round_trips_and_overwrites(aws_env: AwsEndpoint) -> None:
    parameters = SsmParameters()
    name = f"/pylon/{_suffix()}/config"

    parameters.put_string(name, '{"INPUT_QUEUE_NAME": "q1"}')
    parameters.put_string(name, '{"INPUT_QUEUE_NAME": "q2"}')

    assert parameters.get(name) == '{"INPUT_QUEUE_NAME": "q2"}'


def test_ssm_secure_string_is_stored_encrypted_and_read_back_decrypted(
    boto_session: Session,
) -> None:
    parameters = SsmParameters()
    name = f"/pylon/{_suffix()}/secret"

    parameters.put_secure_string(name, "hunter2-password")

    assert parameters.get(name) == "hunter2-password"
    stored = boto_session.client("ssm").get_parameter(Name=name)["Parameter"]
    assert stored["Type"] == "SecureString"
    assert stored["Value"] != "hunter2-password"


def test_ssm_missing_parameter_raises_config_error_naming_it(aws_env: AwsEndpoint) -> None:
    with pytest.raises(ConfigError, match="SSM parameter '/pylon/absent' does not exist"):
        SsmParameters().get("/pylon/absent")


# ------------------------------------------------------------------------------- DynamoDB


@pytest.fixture
def table(boto_session: Session) -> DynamoTable:
    """A table keyed by (pk: string, sk: number), created with plain boto3."""
    name = f"assets-{_suffix()}"
    client = boto_session.client("dynamodb")
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    return DynamoTable(name)


ITEM: dict[str, Any] = {
    "pk": "dataset#1",
    "sk": 1,
    "score": 0.1,
    "ratio": 2.5,
    "label": "héllo",
    "active": True,
    "nested": {"weights": [0.25, 1.5, {"deep": 3.75}], "note": "x", "count": 7},
}


def _exact(value: Any) -> Any:
    """Numbers as exact Decimals, so float and Decimal results compare by written value."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    return [_exact(v) for v in value]


def test_dynamo_put_then_get_keeps_floats_exact_and_nested_dicts(table: DynamoTable) -> None:
    table.put(ITEM)

    item = table.get({"pk": "dataset#1", "sk": 1})

    assert item is not None
    assert _exact(item) == _exact(ITEM)


def test_dynamo_get_returns_the_floats_and_ints_that_were_put(table: DynamoTable) -> None:
    table.put(ITEM)

    item = table.get({"pk": "dataset#1", "sk": 1})

    assert item == ITEM
    assert json.loads(json.dumps(item)) == ITEM


def test_dynamo_get_of_a_missing_key_returns_none(table: DynamoTable) -> None:
    assert table.get({"pk": "nobody", "sk": 0}) is None


def test_dynamo_query_returns_every_item_of_one_partition_only(table: DynamoTable) -> None:
    for sk in range(5):
        table.put({"pk": "dataset#2", "sk": sk, "value": sk / 4, "meta": {"i": sk}})
    table.put({"pk": "dataset#3", "sk": 0, "value": 9.5})

    items = table.query("pk", "dataset#2")

    assert sorted(int(i["sk"]) for i in items) == [0, 1, 2, 3, 4]
    assert {int(i["sk"]): _exact(i["value"]) for i in items} == {
        sk: _exact(sk / 4) for sk in range(5)
    }
    assert all(i["meta"] == {"i": i["sk"]} for i in items)


# --------------------------------------------------------------------------------- Lambda

HANDLER_SOURCE = """
import time

def handle(event, context):
    time.sleep(event.get("sleep", 0))
    if "fail" in event:
        raise ValueError("handler refused: " + event["fail"])
    print("invoked with marker", event.get("marker"))
    return {"doubled": event.get("n", 0) * 2, "function": context.function_name}
"""


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def function(boto_session: Session) -> LambdaFunction:
    """A real Python function MiniStack runs in a subprocess, created from an in-memory zip."""
    name = f"doubler-{_suffix()}"
    client = boto_session.client("lambda")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="handler.handle",
        Code={"ZipFile": _zip({"handler.py": HANDLER_SOURCE})},
        Timeout=30,
    )
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    return LambdaFunction(name)


def test_lambda_invoke_returns_the_handlers_json_result(function: LambdaFunction) -> None:
    assert function.invoke({"n": 21}) == {"doubled": 42, "function": function.name}


def test_lambda_handler_that_raises_gives_lambda_invocation_error(
    function: LambdaFunction,
) -> None:
    with pytest.raises(LambdaInvocationError) as raised:
        function.invoke({"fail": "bad input"})

    assert f"Lambda {function.name} failed" in str(raised.value)
    assert "handler refused: bad input" in str(raised.value)


def test_lambda_invoke_async_returns_at_once_and_the_handler_runs(
    function: LambdaFunction, boto_session: Session
) -> None:
    marker = f"marker-{_suffix()}"

    started = time.monotonic()
    function.invoke_async({"marker": marker, "sleep": 3})
    assert time.monotonic() - started < 2, "invoke_async waited for the handler"

    logs = boto_session.client("logs")

    def handler_logged_marker() -> bool:
        try:
            events = logs.filter_log_events(
                logGroupName=f"/aws/lambda/{function.name}", filterPattern=f'"{marker}"'
            )["events"]
        except logs.exceptions.ResourceNotFoundException:
            return False
        return bool(events)

    _wait_for(handler_logged_marker, f"the async invocation to log {marker}")


def test_lambda_invoke_of_missing_function_raises_not_found(aws_env: AwsEndpoint) -> None:
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        LambdaFunction("no-such-function").invoke({})


# ------------------------------------------------------------------------------------ RDS
#
# MiniStack's Data API (ministack/services/rds_data.py) runs SQL only against a database
# container that its RDS service starts through Docker. Without one (`_has_real_endpoint`
# false) `_execute_statement` answers from `_stub_execute`: it records CREATE DATABASE/USER,
# GRANT/REVOKE and DROP, answers SHOW DATABASES and information_schema.schemata lookups from
# that record, and rejects every other statement with BadRequestException
# "Unsupported SQL in RDS Data API stub mode". Parameters are accepted but never bound.
# Aurora Serverless (v1) clusters always use that stub, so these tests need no Docker.


@pytest.fixture
def database(boto_session: Session) -> RdsDatabase:
    suffix = _suffix()
    cluster = boto_session.client("rds").create_db_cluster(
        DBClusterIdentifier=f"aurora-{suffix}",
        Engine="aurora-postgresql",
        EngineMode="serverless",
        MasterUsername="pylon",
        MasterUserPassword="not-a-real-password",
        EnableHttpEndpoint=True,
    )["DBCluster"]
    secret = boto_session.client("secretsmanager").create_secret(
        Name=f"aurora-{suffix}-credentials",
        SecretString=json.dumps({"username": "pylon", "password": "not-a-real-password"}),
    )
    return RdsDatabase(cluster["DBClusterArn"], secret["ARN"], "postgres")


def test_rds_execute_sends_statement_with_every_parameter_type(database: RdsDatabase) -> None:
    rows = database.execute(
        "CREATE DATABASE IF NOT EXISTS analytics",
        {"owner": "pylon", "limit": 10, "ratio": 0.5, "enabled": True, "comment": None},
    )

    assert rows == []


def test_rds_execute_returns_result_rows_as_dicts(database: RdsDatabase) -> None:
    database.execute("CREATE DATABASE analytics")

    rows = database.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'analytics'"
    )

    assert rows == [{"col0": "analytics"}]


def test_rds_sql_the_emulator_cannot_run_fails_with_a_clear_error(database: RdsDatabase) -> None:
    with pytest.raises(ClientError, match="Unsupported SQL in RDS Data API stub mode: SELECT"):
        database.execute("SELECT * FROM assets WHERE id = :id", {"id": 1})


def test_rds_cluster_without_http_endpoint_is_rejected(boto_session: Session) -> None:
    cluster = boto_session.client("rds").create_db_cluster(
        DBClusterIdentifier=f"closed-{_suffix()}",
        Engine="aurora-postgresql",
        EngineMode="serverless",
        MasterUsername="pylon",
        MasterUserPassword="not-a-real-password",
    )["DBCluster"]
    closed = RdsDatabase(cluster["DBClusterArn"], "arn:aws:secretsmanager:x", "postgres")

    with pytest.raises(ClientError, match="HTTP endpoint is not enabled"):
        closed.execute("SHOW DATABASES")

"""The docs pipeline's three components against the emulator and the local data server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from examples.docs_pipeline.data_server import DATA_DIR, serve_in_thread
from examples.docs_pipeline.download import DownloadError
from examples.docs_pipeline.fetcher import DocumentIndexError, fetchDocuments
from examples.docs_pipeline.lake_writer import read_lake, writeToLake
from examples.docs_pipeline.parser import parseReadings
from examples.docs_pipeline.readings import parse_readings
from pylon import BaseMessage, DataAsset, IngestionStep, ObjectType, UrlResource
from pylon.components import PipelineComponent, SinkComponent
from pylon.config import ComponentKind
from pylon.s3_pointer import S3Location
from pylon.worker import BatchOutcome
from tests.conftest import Wiring

DOCUMENTS = ["2024-05-01-morning.csv", "2024-05-01-evening.csv", "2024-05-02.csv"]
HEADER = "station,observed_at,temperature_c,humidity\n"


def _serve(directory: Path, request: pytest.FixtureRequest) -> str:
    url, stop = serve_in_thread(directory=directory)
    request.addfinalizer(stop)
    return url


def _run_until_done(
    component: PipelineComponent | SinkComponent, count: int = 1, timeout: float = 15
) -> BatchOutcome:
    """runOnce until `count` messages were handled (succeeded or failed) or the deadline."""
    total = BatchOutcome()
    deadline = time.monotonic() + timeout
    while len(total.succeeded) + len(total.failed) < count and time.monotonic() < deadline:
        outcome = component.runOnce()
        total.succeeded += outcome.succeeded
        total.failed += outcome.failed
    assert len(total.succeeded) + len(total.failed) >= count, f"only {total} within {timeout}s"
    return total


def _by_type(messages: list[BaseMessage]) -> dict[ObjectType, list[BaseMessage]]:
    grouped: dict[ObjectType, list[BaseMessage]] = {}
    for message in messages:
        grouped.setdefault(message.objectType, []).append(message)
    return grouped


# ---------------------------------------------------------------- fetcher


def test_fetcher_publishes_one_url_resource_per_document(wiring: Wiring, data_url: str) -> None:
    index_url = f"{data_url}index.json"
    fetchDocuments.configure(wiring.config(ComponentKind.SOURCE, SOURCE_URL=index_url))

    ingestion_id = fetchDocuments.runOnce()

    published = _by_type(wiring.collect(4))
    resources = [m.body for m in published[ObjectType.URL_RESOURCE]]
    assert all(isinstance(r, UrlResource) for r in resources)
    assert sorted(r.url for r in resources if isinstance(r, UrlResource)) == sorted(
        f"{data_url}{name}" for name in DOCUMENTS
    )
    assert {r.mimeType for r in resources if isinstance(r, UrlResource)} == {"text/csv"}
    (step_message,) = published[ObjectType.INGESTION_STEP]
    step = step_message.body
    assert isinstance(step, IngestionStep) and step.ingestionId == ingestion_id
    assert step.metadata == {"index": index_url, "documents": 3}


def test_fetcher_names_the_url_when_the_index_is_unreachable(wiring: Wiring) -> None:
    closed_url, stop = serve_in_thread()
    stop()  # nothing listens on that port any more
    index_url = f"{closed_url}index.json"
    fetchDocuments.configure(wiring.config(ComponentKind.SOURCE, SOURCE_URL=index_url))

    with pytest.raises(DownloadError, match=f"GET {index_url} failed"):
        fetchDocuments.runOnce()


def test_fetcher_names_the_url_when_the_index_is_malformed(
    wiring: Wiring, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "index.json").write_text('{"docs": []}')
    index_url = f"{_serve(tmp_path, request)}index.json"
    fetchDocuments.configure(wiring.config(ComponentKind.SOURCE, SOURCE_URL=index_url))

    with pytest.raises(DocumentIndexError, match=f"index {index_url} must be a JSON object"):
        fetchDocuments.runOnce()


# ---------------------------------------------------------------- parser


def _url_message(url: str) -> BaseMessage:
    return BaseMessage(
        body=UrlResource(url=url, mimeType="text/csv"), objectType=ObjectType.URL_RESOURCE
    )


def test_parser_turns_a_url_resource_into_one_data_asset(wiring: Wiring, data_url: str) -> None:
    url = f"{data_url}2024-05-02.csv"
    parseReadings.configure(wiring.config(ComponentKind.PIPELINE, COUNTRY="BE"))
    wiring.send(_url_message(url))

    assert _run_until_done(parseReadings).failed == []

    published = _by_type(wiring.collect(2))
    (output,) = published[ObjectType.DATA_ASSET]
    step = published[ObjectType.INGESTION_STEP][0].body
    asset = output.body
    assert isinstance(asset, DataAsset) and isinstance(step, IngestionStep)
    assert (output.dataAssetName, output.dataAssetCountry) == ("weather.readings", "BE")
    assert asset.dataAssetPartitionKeys == ["observed_date"]
    assert asset.dataAssetUniqueKeys == ["station", "observed_at"]
    assert len(asset.data) == 12
    assert asset.data[0] == {
        "station": "06260-de-bilt",
        "observed_at": "2024-05-02T00:00:00Z",
        "observed_date": "2024-05-02",
        "temperature_c": 8.3,
        "humidity": 85.0,
        "ingestionId": step.ingestionId,
    }
    assert step.metadata == {"document": url, "rows": 12}


def test_parser_leaves_a_bad_document_in_the_queue_naming_the_line(
    wiring: Wiring,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "bad.csv").write_text(
        HEADER + "s1,2024-05-01T00:00:00Z,7.5,86\ns1,2024-05-01T03:00:00Z,7.5.1,80\n"
    )
    url = f"{_serve(tmp_path, request)}bad.csv"
    parseReadings.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = wiring.send(_url_message(url))

    assert _run_until_done(parseReadings).failed == [message_id]

    assert wiring.visible_input_count() == 1
    error = next(r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert f"{url}: line 3, column 'temperature_c': '7.5.1' is not a number" in error
    assert message_id in error


def test_parser_rejects_a_message_that_is_not_a_url_resource(wiring: Wiring) -> None:
    parseReadings.configure(wiring.config(ComponentKind.PIPELINE))
    message_id = wiring.send(BaseMessage(body="hello"))

    assert _run_until_done(parseReadings).failed == [message_id]
    assert wiring.visible_input_count() == 1


# ---------------------------------------------------------------- lake writer


def _asset_message(document: str, ingestion_id: str) -> BaseMessage:
    path = DATA_DIR / document
    asset = DataAsset(
        dataAssetName="weather.readings",
        dataAssetCountry="NL",
        dataAssetPartitionKeys=["observed_date"],
        dataAssetUniqueKeys=["station", "observed_at"],
        data=parse_readings(path.read_text(), path.name),
    )
    asset.stamp(ingestion_id)  # what the parser's lineage step does
    return BaseMessage(body=asset, objectType=ObjectType.DATA_ASSET, ingestionId=ingestion_id)


def test_lake_writer_writes_one_sorted_file_per_partition(wiring: Wiring) -> None:
    root = S3Location(wiring.bucket, "lake/")
    writeToLake.configure(wiring.config(ComponentKind.SINK, LAKE_S3_PATH=root.uri))
    wiring.send(_asset_message("2024-05-01-evening.csv", "parse-1"))

    assert _run_until_done(writeToLake).failed == []

    files = read_lake(root)
    assert sorted(files) == [
        "weather/readings/country=NL/observed_date=2024-05-01/part-0000.jsonl",
        "weather/readings/country=NL/observed_date=2024-05-02/part-0000.jsonl",
    ]
    first_day = files[sorted(files)[0]]
    assert len(first_day) == 8
    keys = [(r["station"], r["observed_at"]) for r in first_day]
    assert keys == sorted(keys)
    assert {r["ingestionId"] for r in first_day} == {"parse-1"}


def test_lake_writer_merges_overlapping_documents_and_the_last_write_wins(
    wiring: Wiring,
) -> None:
    root = S3Location(wiring.bucket, "lake/")
    writeToLake.configure(wiring.config(ComponentKind.SINK, LAKE_S3_PATH=root.uri))
    day = "weather/readings/country=NL/observed_date=2024-05-01/part-0000.jsonl"

    wiring.send(_asset_message("2024-05-01-morning.csv", "parse-morning"))
    assert _run_until_done(writeToLake).failed == []
    after_first = read_lake(root)[day]
    wiring.send(_asset_message("2024-05-01-evening.csv", "parse-evening"))
    wiring.send(_asset_message("2024-05-01-evening.csv", "parse-evening"))  # redelivered
    assert _run_until_done(writeToLake, count=2).failed == []

    merged = read_lake(root)[day]
    assert len(after_first) == 12
    assert len(merged) == 16  # 12 morning + 8 evening readings, 4 of them in both
    by_time = {(r["station"], r["observed_at"]): r["ingestionId"] for r in merged}
    assert by_time[("06260-de-bilt", "2024-05-01T12:00:00Z")] == "parse-evening"
    assert by_time[("06260-de-bilt", "2024-05-01T09:00:00Z")] == "parse-morning"
    keys = [(r["station"], r["observed_at"]) for r in merged]
    assert keys == sorted(set(keys))


# ---------------------------------------------------------------- the three stages chained


def _queue_on_topic(topic_arn: str, name: str, object_type: ObjectType) -> str:
    """A queue subscribed raw to `topic_arn`, filtered on objectType as pipeline.yaml does."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps({"objectType": [object_type.value]}),
        },
    )
    return name


def test_documents_flow_from_index_to_a_deduplicated_lake(wiring: Wiring, data_url: str) -> None:
    sns = boto3.client("sns")
    documents_arn = sns.create_topic(Name="docs-documents")["TopicArn"]
    readings_arn = sns.create_topic(Name="docs-readings")["TopicArn"]
    parser_in = _queue_on_topic(documents_arn, "docs-parser-in", ObjectType.URL_RESOURCE)
    writer_in = _queue_on_topic(readings_arn, "docs-writer-in", ObjectType.DATA_ASSET)
    root = S3Location(wiring.bucket, "lake/")
    fetchDocuments.configure(
        wiring.config(
            ComponentKind.SOURCE,
            OUTPUT_TOPIC_ARN=documents_arn,
            SOURCE_URL=f"{data_url}index.json",
        )
    )
    parseReadings.configure(
        wiring.config(
            ComponentKind.PIPELINE, INPUT_QUEUE_NAME=parser_in, OUTPUT_TOPIC_ARN=readings_arn
        )
    )
    writeToLake.configure(
        wiring.config(ComponentKind.SINK, INPUT_QUEUE_NAME=writer_in, LAKE_S3_PATH=root.uri)
    )

    fetchDocuments.runOnce()
    assert _run_until_done(parseReadings, count=3).failed == []
    assert _run_until_done(writeToLake, count=3).failed == []

    files = read_lake(root)
    rows = {key.split("/")[3]: len(records) for key, records in files.items()}
    # 36 rows in three documents; 8 (station, time) pairs appear in two of them.
    assert rows == {"observed_date=2024-05-01": 16, "observed_date=2024-05-02": 12}

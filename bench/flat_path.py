"""The queue path's required work as one flat loop: the floor under Pylon's structure.

`bench.overhead` compares Pylon's queue path with a bare json-in/json-out loop, which
does less than Pylon must. This loop does what Pylon must, for the same dataAsset
messages, written as plainly as Python allows: plain dicts instead of Pylon's message
classes, no hooks, no lease keeper, no error handling beyond raising. Per message it
reads the String attributes and checks objectType, reads the body as exact JSON, checks
the asset's fields and that every record has its keys, derives the ingestionId, writes
the `heartbeat core_process` and `timed_execution core_process` lines, calls the task,
stamps the asset and its records, builds the step record, writes both bodies as exact
JSON, checks them against SNS's size limit and builds their PublishBatch entries; per
batch it publishes, writes each message's `timed_execution total` line and deletes.

It uses Pylon's own exact JSON routes, uuid5 text, step clock, log timestamp, asset-name
pattern and message size, and writes its lines to the stream of Pylon's handler, so the
primitives cost both the same.
`same_entries` checks, before anything is timed, that it publishes what Pylon publishes.
What Pylon costs over this loop is the price of its structure, not of required work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bench.errors import BenchmarkError
from bench.in_memory_aws import InMemorySns, InMemorySqs
from pylon import json_text
from pylon.lineage import ingestion_id_for
from pylon.log_format import PylonHandler, TextFormatter
from pylon.models.data_asset import ASSET_NAME
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import JSON_MIME_TYPE, ObjectType
from pylon.payloads import SNS_MAX_MESSAGE_BYTES
from pylon.wire import WireMessage

_OBJECT_TYPES = frozenset(object_type.value for object_type in ObjectType)
_STRING_FIELDS = ("dataAssetName", "dataAssetCountry")
_KEY_FIELDS = ("dataAssetPartitionKeys", "dataAssetUniqueKeys")


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_WRITE_JSON = json_text.compact_encoder(_refuse)
Task = Callable[[dict[str, Any]], dict[str, Any]]


class FlatLoop:
    """One component's loop: `run_batch` receives, processes and deletes up to 10 messages."""

    def __init__(
        self,
        sqs: InMemorySqs,
        sns: InMemorySns,
        task: Task,
        artifact: tuple[str, str],
        metadata: dict[str, Any],
    ) -> None:
        self._sqs, self._sns, self._task = sqs, sns, task
        self._artifact_name, self._artifact_version = artifact
        self._metadata = metadata
        self._line = _line_writer()

    def run_batch(self) -> None:
        raws = self._sqs.receive_message(MaxNumberOfMessages=10)["Messages"]
        self._line("heartbeat run_once")
        entries: list[dict[str, Any]] = []
        starts: list[float] = []
        for raw in raws:
            starts.append(time.perf_counter())
            for entry in self._entries(raw):
                entry["Id"] = str(len(entries))
                entries.append(entry)
        for first in range(0, len(entries), 10):
            self._sns.publish_batch(PublishBatchRequestEntries=entries[first : first + 10])
        for started in starts:
            self._line(f"timed_execution total {(time.perf_counter() - started) * 1000:.3f} ms")
        self._sqs.delete_message_batch(
            Entries=[{"Id": str(i), "ReceiptHandle": raw["ReceiptHandle"]} for i, raw in enumerate(raws)]
        )

    def _entries(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        attributes = {name: value["StringValue"] for name, value in raw["MessageAttributes"].items()}
        if attributes["objectType"] not in _OBJECT_TYPES:
            raise BenchmarkError(f"objectType {attributes['objectType']!r}")
        asset = json_text.loads(raw["Body"])
        _check_asset(asset)
        step_id = ingestion_id_for(self._artifact_name, raw["MessageId"])
        self._line("heartbeat core_process")
        started = time.perf_counter()
        output = self._task(asset)
        self._line(f"timed_execution core_process {(time.perf_counter() - started) * 1000:.3f} ms")
        output["ingestionId"] = step_id
        for record in output["data"]:
            record["ingestionId"] = step_id
        step = IngestionStep.create(
            step_id, self._artifact_name, self._artifact_version, attributes.get("ingestionId")
        )
        step_record = {
            "ingestionId": step_id,
            "artifactName": step.artifactName,
            "artifactVersion": step.artifactVersion,
            "dimUTCTimestamp": step.dimUTCTimestamp,
            "dimUTCDateId": step.dimUTCDateId,
            "dimUTCHour": step.dimUTCHour,
            "parentIngestionId": step.parentIngestionId,
            "metadata": dict(self._metadata),
        }
        asset_attributes = {
            "objectType": "dataAsset",
            "payloadType": "INLINE",
            "payloadMimeType": JSON_MIME_TYPE,
            "ingestionId": step_id,
            "dataAssetName": output["dataAssetName"],
            "dataAssetCountry": output["dataAssetCountry"],
        }
        step_attributes = {
            "objectType": "ingestionStep",
            "payloadType": "INLINE",
            "payloadMimeType": JSON_MIME_TYPE,
            "ingestionId": step_id,
        }
        return [
            _entry(_WRITE_JSON(output), asset_attributes),
            _entry(_WRITE_JSON(step_record), step_attributes),
        ]


def _check_asset(asset: Any) -> None:
    """DataAsset's checks: its fields' types, its name's shape, keys in every record."""
    if not isinstance(asset, dict):
        raise BenchmarkError("body is not an object")
    for name in _STRING_FIELDS:
        if not isinstance(asset[name], str):
            raise BenchmarkError(f"{name} is not a string")
    if not ASSET_NAME.match(asset["dataAssetName"]) or not asset["dataAssetCountry"].strip():
        raise BenchmarkError("dataAssetName or dataAssetCountry")
    records, keys = asset["data"], []
    for name in _KEY_FIELDS:
        value = asset.get(name, [])
        if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
            raise BenchmarkError(f"{name} is not a list of strings")
        keys += value
    if not isinstance(records, list):
        raise BenchmarkError("data is not a list")
    required = frozenset(keys)
    for record in records:
        if not isinstance(record, dict) or not required <= record.keys():
            raise BenchmarkError("a record misses a key")
    if not isinstance(asset.get("ingestionId"), str | None):
        raise BenchmarkError("ingestionId is not a string")


def _entry(body: str, attributes: dict[str, str]) -> dict[str, Any]:
    size = WireMessage(body, attributes).size_bytes  # as SNS counts it, as Pylon measures it
    if size > SNS_MAX_MESSAGE_BYTES:
        raise BenchmarkError(f"an output of {size} bytes would need offloading")
    return {
        "Message": body,
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    }


def _line_writer() -> Callable[[str], None]:
    """Writes an INFO line of the `pylon` logger as Pylon's handler would, to its stream."""
    handler = logging.getLogger().handlers[0]
    formatter = handler.formatter
    if not isinstance(handler, PylonHandler) or not isinstance(formatter, TextFormatter):
        raise BenchmarkError("the flat loop writes to Pylon's text handler: configure it first")
    stream, lock = handler.stream, handler.lock
    assert lock is not None

    def line(text: str) -> None:
        written = f"{formatter.timestamp(time.time())} INFO pylon {text}\n"
        with lock:
            stream.write(written)
            stream.flush()

    return line


def same_entries(pylon_entries: list[dict[str, Any]], flat_entries: list[dict[str, Any]]) -> None:
    """Raise unless both published the same entries (the step's clock fields aside)."""

    def comparable(entry: dict[str, Any]) -> tuple[Any, Any]:
        body = json_text.loads(entry["Message"])
        for field in ("dimUTCTimestamp", "dimUTCDateId", "dimUTCHour"):
            body.pop(field, None)
        return body, entry["MessageAttributes"]

    if [comparable(e) for e in pylon_entries] != [comparable(e) for e in flat_entries]:
        raise BenchmarkError("the flat loop does not publish what Pylon publishes: fix it first")
    if [e["Message"] for e in pylon_entries[::2]] != [e["Message"] for e in flat_entries[::2]]:
        raise BenchmarkError("the flat loop's output bodies are not Pylon's, byte for byte")

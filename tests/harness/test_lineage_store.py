"""The lineage store, the recorder sink the harness adds, and its wiring into a spec."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from harness.endpoints import AwsEndpoint
from harness.lineage.recorder import RECORDER_ENTRYPOINT, RECORDER_NAME, with_lineage_recorder
from harness.lineage.sink import TABLE_KEY, recordLineage
from harness.lineage.store import LineageStore, LineageStoreError
from harness.spec import SpecError, load_spec, spec_from_dict
from harness.testing.lineage import LineageError
from pylon import BaseMessage, ObjectType
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import TaskError
from pylon.models.ingestion_step import IngestionStep

EXAMPLE = Path(__file__).parents[2] / "examples" / "readme" / "lineage.yaml"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def step(ingestion_id: str, name: str, parent: str | None, minutes: int = 0) -> IngestionStep:
    made = IngestionStep.create(
        ingestion_id, name, "1.0.0", parent, T0 + timedelta(minutes=minutes)
    )
    made.metadata = {"rows": 3, "ratio": 0.5, "note": "ok"}
    return made


@pytest.fixture
def store(aws_env: AwsEndpoint) -> LineageStore:
    boto3.client("dynamodb").create_table(
        TableName="lineage",
        KeySchema=[{"AttributeName": "ingestionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "ingestionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return LineageStore("lineage")


def test_the_first_copy_of_a_step_wins(store: LineageStore) -> None:
    first = step("a", "fetcher", None)
    redelivered = step("a", "fetcher", None, minutes=5)

    assert store.record(first) is True
    assert store.record(redelivered) is False
    assert store.get("a") == first


def test_chain_walks_back_to_the_root(store: LineageStore) -> None:
    for item in (step("a", "fetcher", None), step("b", "parser", "a"), step("c", "writer", "b")):
        store.record(item)

    chain = store.chain("c")

    assert chain.artifact_names == ["fetcher", "parser", "writer"]
    assert chain.steps[0].metadata == {"rows": 3, "ratio": 0.5, "note": "ok"}
    assert sorted(s.ingestionId for s in store.steps()) == ["a", "b", "c"]


def test_a_missing_parent_is_reported_with_what_was_walked(store: LineageStore) -> None:
    store.record(step("c", "writer", "b"))

    with pytest.raises(LineageError, match=r"ingestion step b not found after walking writer"):
        store.chain("c")


def test_an_item_that_is_not_a_step_is_reported(store: LineageStore) -> None:
    boto3.client("dynamodb").put_item(
        TableName="lineage", Item={"ingestionId": {"S": "x"}, "colour": {"S": "red"}}
    )

    with pytest.raises(
        LineageStoreError, match=r"item 'x'.*artifactName.*missing.*lineage table\?"
    ):
        store.get("x")


def test_a_missing_table_says_how_to_get_one(aws_env: AwsEndpoint) -> None:
    with pytest.raises(LineageStoreError, match=r"'nowhere'.*lineage: \{table: nowhere\}"):
        LineageStore("nowhere").get("a")


def test_recorder_refuses_anything_but_steps() -> None:
    config = ComponentConfig(ComponentKind.SINK, {TABLE_KEY: "lineage"})

    with pytest.raises(TaskError, match=r"takes objectType=ingestionStep only, got rawContent"):
        recordLineage(BaseMessage(body="x", messageId="m1"), config)


def test_recorder_subscribes_to_every_topic_for_steps_only() -> None:
    spec = with_lineage_recorder(load_spec(EXAMPLE))

    recorder = spec.components[RECORDER_NAME]
    assert recorder.kind is ComponentKind.SINK
    assert [s.topic for s in recorder.subscriptions] == ["greetings", "replies", "echoes"]
    assert {str(s.filter_policy) for s in recorder.subscriptions} == {
        "{'objectType': ['ingestionStep']}"
    }
    assert recorder.config == {TABLE_KEY: "greeter-lineage"}
    assert with_lineage_recorder(spec) == spec


def test_recorder_follows_the_prefix() -> None:
    spec = with_lineage_recorder(load_spec(EXAMPLE).with_prefix("t1-"))

    recorder = spec.components[RECORDER_NAME]
    assert recorder.input_queue == "t1-greeter-pylon-lineage-in"
    assert recorder.config[TABLE_KEY] == "t1-greeter-lineage"
    assert recorder.subscriptions[0].topic == "t1-greetings"


def test_a_spec_without_lineage_gets_no_recorder() -> None:
    spec = spec_from_dict(
        {"name": "p", "components": {"a": {"type": "source", "entrypoint": "m:f"}}}
    )

    assert with_lineage_recorder(spec) is spec


def test_the_recorder_name_is_reserved() -> None:
    spec = spec_from_dict(
        {
            "name": "p",
            "lineage": {"table": "t"},
            "components": {RECORDER_NAME: {"type": "source", "entrypoint": "m:f"}},
        }
    )

    with pytest.raises(SpecError, match=r"components\.pylon-lineage: this name is reserved"):
        with_lineage_recorder(spec)


@pytest.mark.slow
def test_the_recorder_runs_as_a_process_too(pylon_pipeline) -> None:  # type: ignore[no-untyped-def]
    pipeline = pylon_pipeline(EXAMPLE, run="processes")

    pipeline.publish("greetings", BaseMessage(body="hi"))

    (echo,) = pipeline.recorder("echoes").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60
    )
    chain = pipeline.lineage().wait_for_chain(echo.ingestionId, timeout_s=60)
    assert chain.artifact_names == ["hello", "echo"]
    assert RECORDER_NAME in pipeline.resources.components


def test_the_recorder_sink_runs_with_the_runtime_alone() -> None:
    """Component images carry the runtime without the harness extras (no PyYAML, typer, rich, pytest, docker)."""
    module = RECORDER_ENTRYPOINT.split(":")[0]
    blocked = "import sys; [sys.modules.__setitem__(m, None) for m in ('yaml', 'typer', 'rich', 'pytest', 'docker')]"
    result = subprocess.run(
        [sys.executable, "-c", f"{blocked}; import {module}"], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr

"""What a user's tests get from the plugin: `pylon_pipeline`, recorders, waiting, lineage.

The failure paths matter as much as the happy ones: a failing wait or lineage assertion
must say what was actually seen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.emulators import Emulator
from harness.messaging.payloads import OversizedMessageError
from harness.pipeline.local_pipeline import LocalPipeline
from harness.testing.lineage import LineageError, assert_lineage, lineage_chain
from harness.testing.waiting import WaitTimeoutError, wait_until
from pylon import BaseMessage, IngestionStep, ObjectType

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parents[2]

TWO_STAGES: dict[str, Any] = {
    "name": "relay",
    "topics": ["inbox"],
    "components": {
        "hello": {
            "type": "pipeline",
            "entrypoint": "examples.readme.hello:pipelineTask",
            "subscribe": [{"topic": "inbox", "filter": {"objectType": ["rawContent"]}}],
            "output_topic": "greeted",
            "env": {"IMAGE_NAME": "greeter", "MAJOR": "2", "MINOR": "1", "PATCH": "0"},
        },
        "again": {
            "type": "pipeline",
            "entrypoint": "examples.readme.hello:pipelineTask",
            "subscribe": [{"topic": "greeted", "filter": {"objectType": ["rawContent"]}}],
            "output_topic": "greeted-twice",
            "env": {"IMAGE_NAME": "regreeter", "MAJOR": "1", "MINOR": "0", "PATCH": "0"},
        },
    },
}


def _step(ingestion_id: str, parent: str | None, artifact: str) -> IngestionStep:
    return IngestionStep.create(
        ingestion_id=ingestion_id,
        artifact_name=artifact,
        artifact_version="1.0.0",
        parent_ingestion_id=parent,
    )


def _is_raw(message: BaseMessage) -> bool:
    return message.objectType is ObjectType.RAW_CONTENT


# ------------------------------------------------------------------ lineage, pure logic


def test_lineage_chain_walks_parents_to_the_root() -> None:
    steps = {
        s.ingestionId: s
        for s in [_step("a", None, "fetch"), _step("b", "a", "parse"), _step("c", "b", "enrich")]
    }

    chain = lineage_chain("c", steps)

    assert chain.artifact_names == ["fetch", "parse", "enrich"]
    assert str(chain).startswith("fetch@1.0.0(a) -> parse@1.0.0(b)")


def test_missing_step_names_where_the_walk_stopped_and_what_is_known() -> None:
    steps = {s.ingestionId: s for s in [_step("b", "a", "parse"), _step("c", "b", "enrich")]}

    with pytest.raises(LineageError, match=r"step a not found after walking enrich <- parse"):
        lineage_chain("c", steps)


def test_cycle_is_reported_not_looped_forever() -> None:
    steps = {s.ingestionId: s for s in [_step("a", "b", "x"), _step("b", "a", "y")]}

    with pytest.raises(LineageError, match="cycle"):
        lineage_chain("a", steps)


def test_wrong_expected_chain_shows_the_actual_one() -> None:
    steps = {s.ingestionId: s for s in [_step("a", None, "fetch"), _step("b", "a", "parse")]}
    message = BaseMessage(body="x", ingestionId="b")

    with pytest.raises(
        LineageError, match=r"lineage is \['fetch', 'parse'\], expected \['parse'\]"
    ):
        assert_lineage(message, ["parse"], steps)


def test_message_without_ingestion_id_cannot_have_lineage() -> None:
    with pytest.raises(LineageError, match="carries no ingestionId"):
        assert_lineage(BaseMessage(body="x", messageId="m-1"), ["fetch"], {})


def test_wait_until_returns_the_first_truthy_value_and_times_out_with_what_was_seen() -> None:
    values = iter([None, [], ["ready"]])

    assert wait_until(lambda: next(values), timeout_s=5) == ["ready"]
    with pytest.raises(WaitTimeoutError, match=r"waiting for the moon; seen: only stars"):
        wait_until(lambda: None, timeout_s=0.1, describe=lambda: "only stars", what="the moon")


# ------------------------------------------------------------------ pylon_pipeline


@pytest.mark.parametrize("run", ["inprocess", "processes"])
def test_pipeline_from_a_dict_chains_two_stages_with_lineage(pylon_pipeline: Any, run: str) -> None:
    pipeline: LocalPipeline = pylon_pipeline(TWO_STAGES, run=run)

    pipeline.publish("inbox", BaseMessage(body="hi"))

    (reply,) = pipeline.recorder("greeted-twice").wait_for(1, _is_raw, timeout_s=60)
    assert reply.body == "Hello pylon!"
    chain = pipeline.assert_lineage(reply, ["greeter", "regreeter"])
    first = chain.steps[-1]
    assert (first.parentIngestionId, first.artifactVersion) == (None, "2.1.0")
    assert first.metadata == {"task": "example transform task"}


def test_recorder_timeout_lists_everything_the_topic_published(pylon_pipeline: Any) -> None:
    pipeline: LocalPipeline = pylon_pipeline(TWO_STAGES)
    pipeline.publish("inbox", BaseMessage(body="hi"))
    pipeline.recorder("greeted").wait_for(1, _is_raw, timeout_s=30)

    with pytest.raises(WaitTimeoutError) as failure:
        pipeline.recorder("greeted").wait_for(2, _is_raw, timeout_s=1)

    text = str(failure.value)
    assert "2 matching message(s)" in text
    assert "rawContent: Hello pylon!" in text
    assert "ingestionStep:" in text


def test_send_goes_to_the_component_queue_bypassing_the_topic_filter(
    pylon_pipeline: Any,
) -> None:
    pipeline: LocalPipeline = pylon_pipeline(TWO_STAGES)

    pipeline.send("hello", BaseMessage(body="direct", objectType=ObjectType.RAW_CONTENT))

    (reply,) = pipeline.recorder("greeted").wait_for(1, _is_raw, timeout_s=30)
    assert reply.body == "Hello pylon!"


def test_a_large_published_body_reaches_the_component_through_the_spec_payload_bucket(
    pylon_pipeline: Any,
) -> None:
    from tests.interop.extended_client_peer import digest, large_body

    pipeline = pylon_pipeline(
        {
            "name": "big",
            "topics": ["inbox"],
            "buckets": ["big-payloads"],
            "payloads": {"s3_path": "s3://big-payloads/offload/"},
            "components": {
                "digest": {
                    "type": "pipeline",
                    "entrypoint": "tests.interop.extended_client_components:digest_payload",
                    "subscribe": [{"topic": "inbox"}],
                }
            },
        }
    )

    pipeline.publish("inbox", BaseMessage(body=large_body(300_000)))

    (reply,) = pipeline.recorder("digest-out").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert json.loads(str(reply.body)) == digest(large_body(300_000))


def test_a_large_body_without_a_spec_payload_location_is_refused_saying_how_to_fix_it(
    pylon_pipeline: Any,
) -> None:
    pipeline = pylon_pipeline(TWO_STAGES)

    with pytest.raises(OversizedMessageError, match=r"give the pipeline's spec a payloads\.s3_path"):
        pipeline.publish("inbox", BaseMessage(body="x" * 300_000))


def test_two_pipelines_from_one_spec_are_isolated_by_prefix(pylon_pipeline: Any) -> None:
    first: LocalPipeline = pylon_pipeline(TWO_STAGES, run="none")
    second: LocalPipeline = pylon_pipeline(TWO_STAGES, run="none")

    assert set(first.resources.queues).isdisjoint(second.resources.queues)
    first.send("hello", BaseMessage(body="only first"))
    queue_url = second.resources.components["hello"].queue_url
    assert queue_url is not None
    response = boto3.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
    assert response.get("Messages", []) == []


def test_topic_recorder_fixture_sees_what_a_topic_publishes(topic_recorder: Any) -> None:
    topic_arn = boto3.client("sns").create_topic(Name="plain")["TopicArn"]
    recorder = topic_recorder(topic_arn)

    boto3.client("sns").publish(
        TopicArn=topic_arn,
        Message="seen",
        MessageAttributes={"objectType": {"DataType": "String", "StringValue": "rawContent"}},
    )

    (message,) = recorder.wait_for(1)
    assert message.body == "seen"


USER_PROJECT_TEST = f"""
from pylon import BaseMessage, ObjectType

SPEC = {TWO_STAGES!r}

def test_relay(pylon_pipeline):
    pipeline = pylon_pipeline(SPEC)
    pipeline.publish("inbox", BaseMessage(body="hi"))
    pipeline.recorder("greeted-twice").wait_for(1, lambda m: m.objectType is ObjectType.RAW_CONTENT)
"""


def test_a_user_project_test_passes_and_leaves_nothing_behind(
    pytester: pytest.Pytester, pylon_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_user=USER_PROJECT_TEST)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the spec's entrypoints live in examples/
    pylon_emulator.reset()

    result = pytester.runpytest_subprocess(
        f"--pylon-endpoint={pylon_emulator.endpoint_url}", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=1)
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    endpoint = pylon_emulator.endpoint_url
    assert session.client("sqs", endpoint_url=endpoint).list_queues().get("QueueUrls", []) == []
    assert session.client("sns", endpoint_url=endpoint).list_topics()["Topics"] == []

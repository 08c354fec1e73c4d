"""The inspector over HTTP, beside a running pipeline on the embedded emulator.

What the browser tests (test_inspector_browser.py) do through a page, these check at the
level of requests and responses: that looking changes nothing, that every action works
and is guarded (Host header, CSRF token), that content is escaped and secrets redacted.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.pipeline.activity import queue_depth
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from tests.inspector.components import HEALTH
from tests.inspector.conftest import SHOUT_SPEC, Inspected, InspectPipeline

pytestmark = pytest.mark.slow


def word(text: str, **attributes: str) -> BaseMessage:
    """A message as a source publishes it: with an ingestionId, so its journey is found."""
    return BaseMessage(
        body=text,
        objectType=ObjectType.RAW_CONTENT,
        attributes=attributes,
        ingestionId=str(uuid.uuid4()),
    )


def page(inspected: Inspected, path: str) -> str:
    response = inspected.get(path)
    assert response.status == 200, (path, response.status, response.data[:500])
    return response.data.decode()


def wait_for_page(inspected: Inspected, path: str, text: str, timeout_s: float = 20) -> str:
    """The page, once it contains `text` (the observer polls the pipeline)."""

    def shown() -> str | None:
        body = page(inspected, path)
        return body if text in body else None

    return wait_until(shown, timeout_s, what=f"{path} to show {text!r}")


def replay_form(journey: str, where: str) -> dict[str, str]:
    """The hidden fields of the journey's "replay from here" form for the hop on a `where`."""
    fields = re.findall(r'name="(where|name|message_id)" value="([^"]+)"', journey)
    forms = [dict(fields[i : i + 3]) for i in range(0, len(fields), 3)]
    found = next((form for form in forms if form["where"] == where), None)
    assert found is not None, f"no replay form for a {where} hop in:\n{journey}"
    return found


def shouted(inspected: Inspected, count: int, text: str) -> list[BaseMessage]:
    return inspected.pipeline.recorder("shouted").wait_for(
        count, lambda m: m.objectType is ObjectType.RAW_CONTENT and m.body == text
    )


def ingestion_id_on_queue(inspected: Inspected, queue: str, text: str) -> str:
    body = wait_for_page(inspected, f"/queues/{queue}", text)
    row = body[body.index(text) - 2000 : body.index(text)]
    return str(re.findall(r'href="/journey/([0-9a-f-]{36})"', row)[-1])


def queue_name(inspected: Inspected, component: str) -> str:
    return str(inspected.provisioned.components[component].spec.input_queue)


# ---------------------------------------------------------------- looking changes nothing


def test_viewing_a_queue_leaves_receive_counts_and_visibility_unchanged(
    inspect_pipeline: InspectPipeline,
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")  # nothing consumes: they wait
    for n in range(3):
        inspected.pipeline.publish("words", word(f"waiting {n}"))
    queue = queue_name(inspected, "shout")
    url = inspected.provisioned.components["shout"].queue_url
    assert url
    wait_for_page(inspected, f"/queues/{queue}", "waiting 2")
    for _ in range(5):
        body = page(inspected, f"/queues/{queue}")
        page(inspected, f"/queues/{queue}?q=waiting")
    assert body.count('class="message"') == 3

    depth = queue_depth(url)
    assert (depth.visible, depth.in_flight) == (3, 0)
    received = boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )["Messages"]  # fmt: skip
    # This receive is the first one: viewing received nothing.
    assert sorted(m["Attributes"]["ApproximateReceiveCount"] for m in received) == ["1"] * 3


def test_the_queue_page_searches_bodies_and_attributes(inspect_pipeline: InspectPipeline) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")
    inspected.pipeline.publish("words", word("apple pie", colour="green"))
    inspected.pipeline.publish("words", word("banana split", colour="yellow"))
    queue = queue_name(inspected, "shout")
    wait_for_page(inspected, f"/queues/{queue}", "banana split")

    by_body = page(inspected, f"/queues/{queue}?q=APPLE")
    by_attribute = page(inspected, f"/queues/{queue}?q=colour%3Dyellow")

    assert "apple pie" in by_body and "banana split" not in by_body
    assert "banana split" in by_attribute and "apple pie" not in by_attribute


# ---------------------------------------------------------------- escaping and secrets

HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }} {% raw %} ${7*7}",
    "\u202eevil\u202c \ufeff \x7f\x80\x9f \U0001f4a3",
]


def test_hostile_bodies_and_attributes_are_shown_as_text(inspect_pipeline: InspectPipeline) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")
    for body in HOSTILE:
        inspected.pipeline.publish("words", word(body, note='"><b>bold</b>'))
    huge = "x" * 200_000
    inspected.pipeline.publish("words", word(huge))
    queue = queue_name(inspected, "shout")
    wait_for_page(inspected, f"/queues/{queue}", html.escape(HOSTILE[-1], quote=True)[:20])
    wait_until(lambda: page(inspected, f"/queues/{queue}").count('class="message"') == 5, 20)

    body = page(inspected, f"/queues/{queue}")
    assert "<script>alert" not in body and "<img src=x" not in body and "<b>bold" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert "{{ 7*7 }}" in body and "49" not in body.split("{{ 7*7 }}")[1][:20]
    assert "x" * 300 in body and "x" * 301 not in body, "a huge body is shown as a preview"


def test_config_secrets_are_redacted_on_the_pipeline_page(
    inspect_pipeline: InspectPipeline,
) -> None:
    spec = json.loads(json.dumps(SHOUT_SPEC))
    spec["components"]["shout"]["config"] = {"API_TOKEN": "s3cr3t-t0ken", "MODE": "loud"}
    inspected = inspect_pipeline(spec, run="none")

    body = page(inspected, "/")

    assert "s3cr3t-t0ken" not in body and "loud" not in body
    assert "API_TOKEN" in body and "***" in body
    assert "INPUT_QUEUE_NAME" in body and queue_name(inspected, "shout") in body  # public keys


# ---------------------------------------------------------------- guards


def test_foreign_host_headers_are_refused(inspect_pipeline: InspectPipeline) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")

    assert inspected.get("/", Host="attacker.example").status == 400
    assert inspected.get("/", Host=f"attacker.example:{inspected.server.port}").status == 400
    assert inspected.get("/", Host=f"localhost:{inspected.server.port}").status == 200


def test_actions_need_the_page_csrf_token_and_a_post(inspect_pipeline: InspectPipeline) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")
    topic = next(n for n in inspected.provisioned.topics if n.endswith("words"))
    form = {"target": f"topic:{topic}", "object_type": "rawContent", "body": "hi", "attributes": ""}

    assert inspected.post("/send", form).status == 403
    assert inspected.post("/send", {**form, "csrf": "guess"}).status == 403
    assert inspected.get("/dead-letters/redrive").status == 405
    assert inspected.post("/send", {**form, "csrf": inspected.csrf}).status == 303
    assert f'name="csrf" value="{inspected.csrf}"' in page(inspected, "/send")


# ---------------------------------------------------------------- send, journeys, replay


def test_send_validates_against_the_message_schema(inspect_pipeline: InspectPipeline) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")
    topic = next(n for n in inspected.provisioned.topics if n.endswith("words"))
    base = {"csrf": inspected.csrf, "target": f"topic:{topic}", "attributes": ""}
    cases = {
        "objectType 'nonsense' is not one of": {"object_type": "nonsense", "body": "x"},
        "attributes line 2: expected NAME=VALUE, got 'oops'": {
            "object_type": "rawContent", "body": "x", "attributes": "a=1\noops",
        },
        "the message body (DataAsset): body is not valid JSON": {
            "object_type": "dataAsset", "body": "{not json",
        },
        "no topic or queue 'topic:nowhere'": {
            "object_type": "rawContent", "body": "x", "target": "topic:nowhere",
        },
    }  # fmt: skip
    for expected, fields in cases.items():
        response = inspected.post("/send", {**base, **fields})
        shown = response.data.decode()
        assert response.status == 422, (expected, response.status)
        error = re.search(r'<p class="error" id="error">(.*?)</p>', shown, re.S)
        assert error and expected in html.unescape(error.group(1)), (expected, shown)
        # What was typed comes back in the form, escaped.
        assert f">{html.escape(fields['body'])}</textarea>" in shown
    assert "Messages" not in boto3.client("sqs").receive_message(
        QueueUrl=str(inspected.provisioned.components["shout"].queue_url), WaitTimeSeconds=1
    ), "a refused message was sent anyway"


def test_a_sent_message_is_processed_and_its_journey_shows_every_hop(
    inspect_pipeline: InspectPipeline,
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC)
    topic = next(n for n in inspected.provisioned.topics if n.endswith("words"))
    response = inspected.post("/send", {
        "csrf": inspected.csrf, "target": f"topic:{topic}", "object_type": "rawContent",
        "attributes": "colour=blue", "body": "hello journey",
    })  # fmt: skip
    assert response.status == 303 and "flash=sent" in response.headers["Location"]
    shouted(inspected, 1, "HELLO JOURNEY")
    source_id = ingestion_id_on_queue(inspected, queue_name(inspected, "shout"), "hello journey")

    journey = wait_for_page(inspected, f"/journey/{source_id}", "shouted: 13")  # its step
    journey = wait_for_page(inspected, f"/journey/{source_id}", "total ")  # its timing
    # The topic's tap and the queue's mirror are polled apart; each hop shows once seen.
    wait_for_page(inspected, f"/journey/{source_id}", "published on topic")
    journey = wait_for_page(inspected, f"/journey/{source_id}", "delivered to queue")
    processed = journey[journey.index("<h3>Processed by") : journey.index('id="lineage"')]
    assert "shouter" in processed and "2.1.0" in processed and "shouted: 13" in processed, processed
    output_id = re.search(r'rawContent on \S*shouted <a href="/journey/([0-9a-f-]{36})"', journey)
    assert output_id, journey

    # The output's journey: processed by the sink (no step of its own), lineage back.
    onward = wait_for_page(inspected, f"/journey/{output_id.group(1)}", "(a sink records no step)")
    assert "<strong>keep</strong>" in onward
    assert f'<a href="/journey/{output_id.group(1)}">' in onward.split('id="lineage"')[1]


def test_replay_from_a_hop_in_the_page_and_from_the_cli(
    inspect_pipeline: InspectPipeline, tmp_path: Path
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC)
    inspected.pipeline.publish("words", word("again and again"))
    shouted(inspected, 1, "AGAIN AND AGAIN")
    queue = queue_name(inspected, "shout")
    source_id = ingestion_id_on_queue(inspected, queue, "again and again")
    # The topic's tap and the queue's mirror are polled apart: wait for the topic's hop.
    journey = wait_for_page(inspected, f"/journey/{source_id}", "published on topic")
    hidden = replay_form(journey, "topic")

    response = inspected.post("/replay", {"csrf": inspected.csrf, **hidden})
    assert response.status == 303 and "published+again" in response.headers["Location"].replace(
        "%20", "+"
    )
    shouted(inspected, 2, "AGAIN AND AGAIN")
    wait_until(
        lambda: page(inspected, f"/journey/{source_id}").count("published on topic") == 2,
        20,
        what="the inspector to see the replayed message",
    )

    capture = tmp_path / f"{inspected.provisioned.spec.name}.capture.jsonl"
    result = CliRunner().invoke(
        app, ["replay", str(capture), "--from-step", source_id, "--endpoint", inspected.server.inspector.endpoint_url]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "replayed 2 message(s) into topic" in result.output  # the original and the replay
    shouted(inspected, 4, "AGAIN AND AGAIN")

    endpoint = inspected.server.inspector.endpoint_url
    unknown = CliRunner().invoke(
        app, ["replay", str(capture), "--from-step", "no-such-id", "--endpoint", endpoint]
    )
    assert unknown.exit_code == 1
    assert "holds no data message with ingestionId no-such-id" in " ".join(unknown.output.split())


# ---------------------------------------------------------------- dead letters


def dead_letter_rows(inspected: Inspected, count: int) -> str:
    def shown() -> str | None:
        body = page(inspected, "/dead-letters")
        return body if body.count('class="dead-letter"') == count else None

    return wait_until(shown, 30, what=f"{count} dead letters on the page")


def letters(body: str) -> dict[str, str]:
    """Each dead letter's body text and message id, from the page's rows."""
    found = {}
    for row in body.split('<tr class="dead-letter">')[1:]:
        text = re.search(r'<pre class="body">([^<]*)</pre>', row)
        message_id = re.search(r'name="message_id" value="([^"]+)"', row)
        assert text and message_id, row
        found[html.unescape(text.group(1))] = message_id.group(1)
    return found


def test_dead_letters_show_the_logged_reason_and_can_be_redriven_edited_deleted(
    inspect_pipeline: InspectPipeline,
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC)
    for text in ("fail one", "fail two", "fail three"):
        inspected.pipeline.publish("words", word(text))
    body = dead_letter_rows(inspected, 3)
    assert "ValueError: shout cannot take &#39;fail one&#39;" in body
    by_text = letters(body)
    assert sorted(by_text) == ["fail one", "fail three", "fail two"]

    HEALTH.healed = True
    moved = inspected.post(
        "/dead-letters/redrive",
        {"csrf": inspected.csrf, "component": "shout", "message_id": by_text["fail one"]},
    )
    assert "moved+1+message" in moved.headers["Location"].replace("%20", "+")
    shouted(inspected, 1, "FAIL ONE")
    body = dead_letter_rows(inspected, 2)

    letter = letters(body)["fail two"]
    editor = page(inspected, f"/dead-letters/edit?component=shout&message_id={quote(letter)}")
    assert "fail t" in editor
    refused = inspected.post("/dead-letters/edit", {
        "csrf": inspected.csrf, "component": "shout", "message_id": letter,
        "object_type": "dataAsset", "attributes": "", "body": "[1, 2",
    })  # fmt: skip
    assert refused.status == 422 and "[1, 2</textarea>" in refused.data.decode()
    dead_letter_rows(inspected, 2)  # a refused edit leaves the letter where it was
    resent = inspected.post("/dead-letters/edit", {
        "csrf": inspected.csrf, "component": "shout", "message_id": letter,
        "object_type": "rawContent", "attributes": "edited=yes", "body": "fixed by hand",
    })  # fmt: skip
    assert "resent+1" in resent.headers["Location"].replace("%20", "+")
    fixed = shouted(inspected, 1, "FIXED BY HAND")
    assert fixed[0].attributes.get("edited") == "yes"
    body = dead_letter_rows(inspected, 1)

    last = letters(body)["fail three"]
    deleted = inspected.post(
        "/dead-letters/delete", {"csrf": inspected.csrf, "component": "shout", "message_id": last}
    )
    assert "deleted" in deleted.headers["Location"]
    dead_letter_rows(inspected, 0)


# ---------------------------------------------------------------- buckets, payloads, export


def test_objects_link_to_the_journeys_of_their_records_and_payloads_stay_in_the_pipeline(
    inspect_pipeline: InspectPipeline,
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")
    bucket = inspected.provisioned.buckets[0]
    s3 = boto3.client("s3")
    lines = [{"ingestionId": "11111111-aaaa", "v": 1}, {"ingestionId": "22222222-bbbb", "v": "<i>"}]
    s3.put_object(Bucket=bucket, Key="lake/part.jsonl", Body="\n".join(map(json.dumps, lines)))
    s3.put_object(Bucket=bucket, Key="blob.bin", Body=b"\x00\xff\xfe<script>")
    s3.create_bucket(Bucket="not-the-pipelines")
    s3.put_object(Bucket="not-the-pipelines", Key="secret.txt", Body=b"private")

    listing = page(inspected, "/buckets")
    assert "lake/part.jsonl" in listing and "blob.bin" in listing
    uri = quote(f"s3://{bucket}/lake/part.jsonl")
    shown = page(inspected, f"/object?uri={uri}")
    assert '<a class="journey" href="/journey/11111111-aaaa">' in shown
    assert '<a class="journey" href="/journey/22222222-bbbb">' in shown
    assert "&lt;i&gt;" in shown

    blob = inspected.get(f"/payload?uri={quote(f's3://{bucket}/blob.bin')}")
    assert blob.headers["Content-Type"].startswith("text/plain") and b"<script>" in blob.data
    download = inspected.get(f"/payload?uri={quote(f's3://{bucket}/blob.bin')}&download=1")
    assert download.data == b"\x00\xff\xfe<script>"
    assert 'filename="blob.bin"' in download.headers["Content-Disposition"]
    foreign = inspected.get(f"/payload?uri={quote('s3://not-the-pipelines/secret.txt')}")
    assert foreign.status == 403 and b"private" not in foreign.data
    assert inspected.get(f"/object?uri={quote('s3://not-the-pipelines/secret.txt')}").status == 403


def test_a_journey_exports_as_a_pytest_file(inspect_pipeline: InspectPipeline) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC)
    inspected.pipeline.publish("words", word("export me", lang="en"))
    shouted(inspected, 1, "EXPORT ME")
    source_id = ingestion_id_on_queue(inspected, queue_name(inspected, "shout"), "export me")
    wait_for_page(inspected, f"/journey/{source_id}", "shouted: 9")

    exported = inspected.get(f"/export/{source_id}")

    assert exported.status == 200, exported.data
    text = exported.data.decode()
    compile(text, "exported.py", "exec")
    assert "pipeline.publish(\n        'words'," in text
    assert "recorder('shouted')" in text and "'EXPORT ME'" in text
    assert "attributes={'lang': 'en'}" in text and "== 'shouter'" in text
    nothing = inspected.get("/export/not-a-journey")
    assert nothing.status == 409 and b"no published input" in nothing.data


# ---------------------------------------------------------------- FIFO

FIFO_SPEC: dict[str, Any] = {
    "name": "fifo-shouts",
    "topics": ["words.fifo"],
    "components": {
        "shout": {
            "type": "pipeline",
            "entrypoint": "tests.inspector.components:shout",
            "fifo": True,
            "subscribe": [{"topic": "words.fifo", "filter": {"objectType": ["rawContent"]}}],
            "output_topic": "shouted.fifo",
        },
    },
}


def test_a_fifo_pipeline_sends_with_a_group_shows_it_and_replays_into_it(
    inspect_pipeline: InspectPipeline,
) -> None:
    inspected = inspect_pipeline(FIFO_SPEC)
    topic = next(n for n in inspected.provisioned.topics if n.endswith("words.fifo"))
    fields = {
        "csrf": inspected.csrf, "target": f"topic:{topic}", "object_type": "rawContent",
        "attributes": "", "body": "in order",
    }  # fmt: skip

    refused = inspected.post("/send", fields)
    sent = inspected.post("/send", {**fields, "group_id": "station-7"})

    assert refused.status == 422
    assert "needs a message group id" in html.unescape(refused.data.decode())
    assert "give one with the group field" in html.unescape(refused.data.decode())
    assert sent.status == 303, sent.data[:500]
    (output,) = inspected.pipeline.recorder("shouted.fifo").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert output.body == "IN ORDER"
    queue = queue_name(inspected, "shout")
    assert "group station-7" in wait_for_page(inspected, f"/queues/{queue}", "in order")

    source_id = ingestion_id_on_queue(inspected, queue, "in order")
    wait_for_page(inspected, f"/journey/{source_id}", "group station-7")
    journey = wait_for_page(inspected, f"/journey/{source_id}", "published on topic")
    hidden = replay_form(journey, "topic")
    assert hidden["name"] == topic
    replayed = inspected.post("/replay", {"csrf": inspected.csrf, **hidden})
    assert replayed.status == 303, replayed.data[:500]
    # Replayed in its group with a fresh de-duplication id: it is delivered again.
    inspected.pipeline.recorder("shouted.fifo").wait_for(
        2, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )

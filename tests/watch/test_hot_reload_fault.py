"""Hot reload under load, in the style of the reliability suite: 2,000 messages through
two stages while the first stage's file is rewritten five times mid-flow (the third
rewrite a syntax error, the fourth its fix). Nothing may be lost; every duplicate must be
detectable by its ingestionId. The report is printed at the end of the run."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.pipeline.activity import queue_depth
from harness.pipeline.local_pipeline import Runner
from harness.reliability.accounting import Delivery, Ledger
from harness.reliability.faults import Fault
from harness.reliability.report import ReliabilityReport
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from pylon.codec import encode
from tests.watch.conftest import Project, StartWatching, Watching

pytestmark = pytest.mark.slow

INPUTS = 2_000
STAGES = ["shouted", "kept"]
# (version, broken): rewritten each time another 300 inputs went through both stages.
REWRITES = [("v2", False), ("v3", False), ("v4", True), ("v5", False), ("v6", False)]
EVERY = 300
KEPT = re.compile(r"kept (?P<version>v\d+):(?P<key>K\d+) (?P<id>\S+)")


def publish_all(topic_arn: str, published: list[int]) -> None:
    """Every input, ten per PublishBatch, counting as it goes."""
    sns = boto3.client("sns")
    for start in range(0, INPUTS, 10):
        entries: list[Any] = []
        for n in range(start, start + 10):
            wire = encode(BaseMessage(body=f"k{n}", objectType=ObjectType.RAW_CONTENT))
            attributes = {
                k: {"DataType": "String", "StringValue": v} for k, v in wire.attributes.items()
            }
            entries.append({"Id": str(n), "Message": wire.body, "MessageAttributes": attributes})
        response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        assert not response.get("Failed"), response
        published[0] += len(entries)


def kept(project: Project) -> list[tuple[str, str, str]]:
    """(version, key, ingestionId) of every message the sink printed."""
    with project.lock:
        lines = [
            line for name, line in project.lines if name == "keep" and line.startswith("kept ")
        ]
    # The step records published beside each output reach the sink too: not inputs.
    found = [KEPT.fullmatch(line) for line in lines]
    return [(m["version"], m["key"].lower(), m["id"]) for m in found if m]


def rewrite_mid_flow(watching: Watching, project: Project, faults: list[Fault],
                     started: float) -> None:  # fmt: skip
    """Each rewrite once another EVERY inputs went through; the fix of the broken one as
    soon as it crashed (nothing goes through while it is broken)."""
    through = 0
    for version, broken in REWRITES:
        if not faults or "syntax" not in faults[-1].detail:
            through += EVERY
            wait_until(lambda n=through: len(kept(project)) >= n, 120, what=f"{through} through")
        project.write_stage(version, broken=broken)
        detail = "a syntax error" if broken else "new code"
        faults.append(Fault("rewrite", "shout", f"{version}: {detail}", time.monotonic() - started))
        if broken:
            wait_until(lambda: watching.reloader.watched["shout"].crashes >= 2, 30,
                       what="the broken stage to crash and be retried")  # fmt: skip


def test_two_thousand_messages_survive_five_rewrites_including_a_syntax_error(
    start_watching: StartWatching,
    project: Project,
    publish_report: Callable[[ReliabilityReport], Path],
) -> None:
    watching = start_watching(Runner.PROCESSES)
    topic = watching.pipeline.topic_arn("words")
    published = [0]
    faults: list[Fault] = []
    started = time.monotonic()

    def scenario() -> None:
        publisher = threading.Thread(target=publish_all, args=(topic, published), daemon=True)
        publisher.start()
        rewrite_mid_flow(watching, project, faults, started)
        publisher.join(120)
        wait_until(lambda: len({key for _, key, _ in kept(project)}) >= INPUTS, 180,
                   describe=lambda: f"{len({k for _, k, _ in kept(project)})} keys kept",
                   what=f"all {INPUTS} inputs through both stages")  # fmt: skip

    watching.run_while(scenario)

    ledger = Ledger([f"k{n}" for n in range(INPUTS)], STAGES)
    recorder = watching.pipeline.recorder("shouted")
    outputs = recorder.wait_for(INPUTS, lambda m: m.objectType is ObjectType.RAW_CONTENT, 60)
    for message in outputs:
        key = str(message.body).partition(":")[2].lower()
        ledger.delivered("shouted", Delivery(key, message.ingestionId))
    versions = set()
    for version, key, ingestion_id in kept(project):
        ledger.delivered("kept", Delivery(key, ingestion_id))
        versions.add(version)
    dead = [
        queue_depth(str(c.dead_letter_queue_url)).total
        for c in watching.pipeline.resources.components.values()
    ]
    report = ReliabilityReport.from_ledger(
        "Hot reload: 2,000 messages, five rewrites of a stage (one a syntax error)",
        ledger, faults, time.monotonic() - started,
        notes=[f"versions that handled messages: {sorted(versions)}",
               f"crashes of the broken version: {watching.reloader.watched['shout'].crashes}"],
    )  # fmt: skip
    publish_report(report)

    assert ledger.missing() == [], f"{len(ledger.missing())} lost"
    assert dead == [0, 0], "nothing should reach a dead-letter queue"
    for stage in STAGES:
        count = ledger.stage_count(stage)
        assert count.delivered == INPUTS and count.undetectable == 0, count
    assert len(faults) == 5
    assert "v4" not in versions and {"v1", "v6"} <= versions, versions
    shout_lines = [line for n, line in project.lines if n == "shout" and not line[:2].isdigit()]
    assert project.seen("shout", "SyntaxError: invalid syntax") == 1, shout_lines

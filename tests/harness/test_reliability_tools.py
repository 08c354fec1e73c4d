"""The reliability tools' pure logic: accounting, log reading, the report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from harness.reliability.accounting import DeadLetter, Delivery, Ledger
from harness.reliability.faults import FaultLog
from harness.reliability.log_watch import Failure, LogWatch
from harness.reliability.report import ReliabilityReport
from pylon.errors import PublishError
from pylon.log_format import TEXT_FORMAT
from pylon.wire import InboundMessage
from pylon.worker import log_failure

# ---------------------------------------------------------------- accounting


def ledger_with(*copies: tuple[str, str, str | None, str | None]) -> Ledger:
    """(stage, key, ingestionId, parent) copies over keys 1..3 and stages a, b."""
    ledger = Ledger(["1", "2", "3"], ["a", "b"])
    for stage, key, ingestion_id, parent in copies:
        ledger.delivered(stage, Delivery(key, ingestion_id, parent))
    return ledger


def test_a_key_neither_delivered_at_the_last_stage_nor_dead_lettered_is_missing() -> None:
    ledger = ledger_with(("a", "1", "x", None), ("a", "2", "y", None), ("b", "1", "z", "x"))
    ledger.dead_letter(DeadLetter("3", "a", "m-3", "ValueError: poison"))

    assert ledger.missing() == ["2"]  # delivered by stage a only: lost between a and b
    assert ledger.unexplained_dead_letters() == []


def test_a_dead_letter_without_a_logged_reason_is_unexplained() -> None:
    ledger = ledger_with()
    letter = DeadLetter("1", "a", "m-1", None)
    ledger.dead_letter(letter)

    assert ledger.unexplained_dead_letters() == [letter]


def test_duplicates_are_classified_by_what_they_share() -> None:
    ledger = ledger_with(
        ("b", "1", "id-1", "p-1"),
        ("b", "1", "id-1", "p-1"),  # the same input processed twice: same ingestionId
        ("b", "2", "id-2", "p-2"),
        ("b", "2", "id-2b", "p-2"),  # the input delivered twice upstream: same parent
        ("b", "3", "id-3", "p-3"),
        ("b", "3", "id-3b", "p-3b"),  # nothing in common: undetectable
    )

    count = ledger.stage_count("b")

    assert (count.delivered, count.copies, count.duplicates) == (3, 6, 3)
    assert (count.same_ingestion_id, count.same_parent, count.undetectable) == (1, 1, 1)


def test_copies_without_ids_cannot_be_matched() -> None:
    ledger = ledger_with(("a", "1", None, None), ("a", "1", None, None))

    assert ledger.stage_count("a").undetectable == 1


# ---------------------------------------------------------------- log reading


def failure_line(caplog: pytest.LogCaptureFixture, error: Exception) -> str:
    """The text Pylon's worker logs for a failed message, formatted as components do."""
    inbound = InboundMessage("m-42", "handle", "body", {}, receive_count=3)
    with caplog.at_level(logging.ERROR, logger="pylon.worker"):
        log_failure(inbound, "m-42", error)
    return logging.Formatter(TEXT_FORMAT).format(caplog.records[-1]).splitlines()[0]


def test_log_watch_reads_the_reason_from_pylons_failure_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = LogWatch()

    watch("parser", failure_line(caplog, PublishError("publishing to arn:x failed")))

    assert watch.failures == [
        Failure("parser", "m-42", "PublishError: publishing to arn:x failed", receive=3)
    ]
    assert watch.reasons() == {"m-42": "PublishError: publishing to arn:x failed"}


def test_log_watch_reads_the_hung_task_line_and_keeps_the_last_reason() -> None:
    watch = LogWatch()
    watch(
        "c",
        "ERROR pylon.worker message m-1 failed (receive 1): ValueError: first; it stays in the queue",
    )
    watch(
        "c",
        "ERROR pylon.leases message m-1 hung: still in hand after TASK_TIMEOUT_SECONDS=5; releasing it",
    )

    assert watch.reasons() == {"m-1": "hung: still in hand after TASK_TIMEOUT_SECONDS=5"}


def test_log_watch_runs_a_cue_once_on_the_named_component_only() -> None:
    fired: list[str] = []
    echoed: list[tuple[str, str]] = []
    watch = LogWatch(echo=lambda name, line: echoed.append((name, line)))
    watch.on_next("a", "go", lambda: fired.append("a"))

    watch("b", "go")
    watch("a", "not yet")
    watch("a", "go now")
    watch("a", "go again")

    assert fired == ["a"]
    assert watch.count("go") == 3 and watch.count("go", "a") == 2
    assert echoed[0] == ("b", "go") and len(echoed) == 4


# ---------------------------------------------------------------- the report


def test_report_lists_stages_faults_dead_letters_and_writes_markdown_and_json(
    tmp_path: Path,
) -> None:
    ledger = ledger_with(("a", "1", "x", None), ("b", "1", "y", "x"), ("b", "1", "y", "x"))
    ledger.dead_letter(DeadLetter("2", "a", "m-2", "ValueError: poison number 2"))
    faults = FaultLog()
    faults.add("SIGKILL", "relay", "pid 1")
    faults.add("task exception (random)", "relay", "log lines", count=7)

    report = ReliabilityReport.from_ledger("demo", ledger, faults.faults, 12.34)
    markdown = report.write(tmp_path).read_text()

    assert report.missing == ["3"]
    assert (
        "3 inputs in 12.3 s; 1 missing, 1 in dead-letter queues (1 with their reason)" in markdown
    )
    assert "| b | 1 | 2 | 1 | 1 | 0 | 0 |" in markdown
    assert "| task exception (random) | 7 |" in markdown
    assert "| a | 2 | m-2 | ValueError: poison number 2 |" in markdown
    data = json.loads((tmp_path / "reliability.json").read_text())
    assert data["missing"] == ["3"] and data["faults"][0]["kind"] == "SIGKILL"

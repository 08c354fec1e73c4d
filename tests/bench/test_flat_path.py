"""bench.flat_path: the flat loop the queue path is measured against does Pylon's work.

The benchmark refuses to time a flat loop that publishes anything Pylon would not, so
these tests check that refusal, and that the loop passes it today.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from bench.errors import BenchmarkError
from bench.flat_path import same_entries
from bench.in_memory_aws import InMemorySns, InMemorySqs
from bench.overhead import check_flat_loop, flat_loop, logs_to_null_device, sqs_messages


def _published_by_flat_loop(messages: int) -> list[dict[str, Any]]:
    sns = InMemorySns(keep=True)
    sqs = InMemorySqs(sqs_messages(3, messages))
    loop = flat_loop(sqs, sns)
    while sqs.pending:
        loop.run_batch()
    assert sns.kept is not None
    return sns.kept


def test_the_flat_loop_publishes_what_pylon_publishes() -> None:
    with logs_to_null_device():
        check_flat_loop(sqs_messages(3, 10))  # raises when they differ


def test_the_flat_loop_publishes_an_output_and_a_step_per_message_and_deletes_all() -> None:
    sqs = InMemorySqs(sqs_messages(3, 25))
    sns = InMemorySns()
    with logs_to_null_device():
        loop = flat_loop(sqs, sns)
        while sqs.pending:
            loop.run_batch()
    assert (sns.published, sqs.deleted) == (50, 25)


@pytest.mark.parametrize(
    "change",
    [
        lambda entry: entry.update(Message=entry["Message"].replace("st-001", "st-01")),
        lambda entry: entry["MessageAttributes"].pop("dataAssetCountry"),
        lambda entry: entry["MessageAttributes"]["objectType"].update(StringValue="rawContent"),
    ],
    ids=["body", "attribute-missing", "attribute-value"],
)
def test_a_flat_loop_that_publishes_something_else_is_refused(change: Any) -> None:
    with logs_to_null_device():
        published = _published_by_flat_loop(10)
    changed = copy.deepcopy(published)
    change(changed[0])
    with pytest.raises(BenchmarkError, match="does not publish what Pylon publishes"):
        same_entries(published, changed)


def test_an_output_body_must_match_byte_for_byte() -> None:
    with logs_to_null_device():
        published = _published_by_flat_loop(10)
    changed = copy.deepcopy(published)
    changed[0]["Message"] = changed[0]["Message"].replace(",", ", ", 1)  # same JSON value
    with pytest.raises(BenchmarkError, match="byte for byte"):
        same_entries(published, changed)


def test_the_flat_loop_writes_through_pylons_text_handler_only() -> None:
    root = logging.getLogger()
    saved = list(root.handlers)
    root.handlers = [logging.StreamHandler()]
    try:
        with pytest.raises(BenchmarkError, match="Pylon's text handler"):
            flat_loop(InMemorySqs(), InMemorySns())
    finally:
        root.handlers = saved

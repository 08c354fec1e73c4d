"""`pylon.deletes` against the emulator: background deletes finish before close returns,
and a failed delete is logged without stopping the ones after it."""

from __future__ import annotations

import logging
import os
from contextlib import closing

import boto3
import pytest

from pylon.deletes import BackgroundDeletes, delete_done
from tests.conftest import Wiring
from tests.runtime.test_same_core import needs_affinity


def _received(wiring: Wiring, *bodies: str) -> list[str]:
    """Send `bodies`, receive them all; their receipt handles."""
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=wiring.input_queue.url, MessageBody=body)
    handles: list[str] = []
    while len(handles) < len(bodies):
        handles += [raw["ReceiptHandle"] for raw in wiring.input_queue.receive(10, 1)]
    return handles


def test_background_deletes_are_all_done_when_close_returns(wiring: Wiring) -> None:
    handles = _received(wiring, *(f"m{i}" for i in range(25)))

    with closing(BackgroundDeletes(wiring.input_queue)) as deletes:
        for start in range(0, len(handles), 10):
            deletes.submit(handles[start : start + 10])

    assert wiring.visible_input_count() == 0


def test_a_refused_delete_is_logged_and_the_next_ones_still_happen(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    [good] = _received(wiring, "kept going")

    with (
        caplog.at_level(logging.ERROR, logger="pylon.deletes"),
        closing(BackgroundDeletes(wiring.input_queue)) as deletes,
    ):
        deletes.submit(["not-a-receipt-handle"])
        deletes.submit([good])

    assert "deleting 1 processed message(s) failed" in caplog.text
    assert "processed again, with the same ingestionId" in caplog.text
    assert wiring.visible_input_count() == 0


def test_delete_done_with_nothing_to_delete_makes_no_request(wiring: Wiring) -> None:
    class NoRequests:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"unexpected request {name}")

    delete_done(NoRequests(), [])  # type: ignore[arg-type]


@needs_affinity
def test_the_delete_thread_runs_on_the_core_of_the_loop_that_submits(wiring: Wiring) -> None:
    handles = _received(wiring, "on the loop's core")
    loop_cores = os.sched_getaffinity(0)
    core = max(loop_cores)
    os.sched_setaffinity(0, {core})  # this thread only: it plays the loop
    try:
        with closing(BackgroundDeletes(wiring.input_queue)) as deletes:
            deletes.submit(handles)
            assert os.sched_getaffinity(deletes._thread.native_id or 0) == {core}
    finally:
        os.sched_setaffinity(0, loop_cores)
    assert wiring.visible_input_count() == 0

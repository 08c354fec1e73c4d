"""Leases against the emulator: held messages stay invisible, hung tasks are stopped.

Timings use short visibility timeouts (seconds) so that a lease which was NOT renewed
would visibly run out during the test; every wait polls with a deadline.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator

import boto3
import pytest

import pylon
from harness.run.esm_loop import LambdaContext, sqs_event_from_messages
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from pylon.aws.sqs import SqsQueue
from pylon.codec import encode
from pylon.config import ComponentKind
from pylon.leases import HUNG_TASK_EXIT_CODE, LeaseKeeper
from pylon.shutdown import StopSignal
from pylon.wire import SqsMessage
from pylon.worker import QueueWorker
from tests.conftest import Wiring, run_component_process


def send_batch(wiring: Wiring, *bodies: str) -> list[str]:
    """One SendMessageBatch, so that one receive returns them together, in order."""
    return wiring.input_queue.send([encode(BaseMessage(body=b)) for b in bodies])


def observe_nothing_for(queue: SqsQueue, seconds: float) -> list[SqsMessage]:
    """Everything a competing consumer receives from `queue` during `seconds`."""
    seen: list[SqsMessage] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen += queue.receive(10, wait_seconds=1)
    return seen


@pytest.fixture
def blocking_task() -> Iterator[tuple[threading.Event, threading.Event]]:
    """(started, release): the task below blocks in `slow` messages until released."""
    started, release = threading.Event(), threading.Event()
    yield started, release
    release.set()


def run_in_thread(action: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def test_messages_in_hand_and_waiting_stay_invisible_while_a_long_task_runs(
    wiring: Wiring, blocking_task: tuple[threading.Event, threading.Event]
) -> None:
    started, release = blocking_task

    @pylon.PipelineComponent
    def slow(message, config):  # type: ignore[no-untyped-def]
        if message.body == "slow":
            started.set()
            release.wait(30)
        return pylon.result([message], {})

    slow.configure(wiring.config(ComponentKind.PIPELINE, VISIBILITY_TIMEOUT=3))
    send_batch(wiring, "slow", "waiting-1", "waiting-2")
    worker = run_in_thread(slow.runOnce)
    assert started.wait(15)

    # More than twice the 3 s lease: without renewals all three would reappear.
    competitor = SqsQueue(wiring.input_queue.url, boto3.client("sqs"))
    assert observe_nothing_for(competitor, 7) == []

    release.set()
    worker.join(30)
    bodies = sorted(m.body for m in wiring.collect(6) if m.objectType is ObjectType.RAW_CONTENT)
    assert bodies == ["slow", "waiting-1", "waiting-2"]
    assert wiring.visible_input_count() == 0


def test_a_failed_message_is_no_longer_renewed_and_comes_back_after_its_lease(
    wiring: Wiring, blocking_task: tuple[threading.Event, threading.Event]
) -> None:
    started, release = blocking_task

    @pylon.PipelineComponent
    def mixed(message, config):  # type: ignore[no-untyped-def]
        if message.body == "bad":
            raise ValueError("bad message")
        started.set()
        release.wait(30)
        return pylon.result([message], {})

    mixed.configure(wiring.config(ComponentKind.PIPELINE, VISIBILITY_TIMEOUT=2))
    bad_id, _ = send_batch(wiring, "bad", "slow")
    worker = run_in_thread(mixed.runOnce)
    assert started.wait(15)
    competitor = SqsQueue(wiring.input_queue.url, boto3.client("sqs"))

    [again] = wait_until(lambda: competitor.receive(10, wait_seconds=1), 15, what="the failed one")

    assert again["MessageId"] == bad_id  # the slow one, still in hand, stays leased
    release.set()
    worker.join(30)


def test_a_refused_renewal_is_logged_as_a_lost_lease(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    [message_id] = send_batch(wiring, "x")
    [stale] = wiring.input_queue.receive(1, wait_seconds=1, visibility_timeout=1)
    # Received again once the first lease ran out: the first receipt handle is stale now.
    wait_until(lambda: wiring.input_queue.receive(1, wait_seconds=1, visibility_timeout=30), 15)
    keeper = LeaseKeeper(wiring.input_queue, lease_seconds=1)

    with caplog.at_level(logging.WARNING, logger="pylon.leases"), keeper.hold([stale]):
        wait_until(lambda: "lease lost" in caplog.text, 15, what="the lost-lease warning")
    keeper.close()

    assert message_id in caplog.text


def test_a_hung_task_releases_its_batch_then_calls_on_hung_task(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    done_id, hung_id, waiting_id = send_batch(wiring, "done", "hung", "waiting")
    wiring.input_queue_visibility(60)
    done, hung, waiting = wiring.input_queue.receive(10, wait_seconds=1)
    called = threading.Event()
    keeper = LeaseKeeper(wiring.input_queue, task_timeout_seconds=1, on_hung_task=called.set)

    with caplog.at_level(logging.ERROR, logger="pylon.leases"), keeper.hold([done, hung, waiting]) as held:
        held.start(done)
        held.succeeded(done)
        held.start(hung)
        assert called.wait(15)
    keeper.close()

    assert f"message {hung_id} hung" in caplog.text
    assert "releasing it and 1 other unpublished message(s)" in caplog.text
    # Back at once (the queue's lease is 60 s), and the done one was deleted.
    back = wiring.input_queue.receive(10, wait_seconds=1)
    assert sorted(m["MessageId"] for m in back) == sorted([hung_id, waiting_id])
    assert done_id not in [m["MessageId"] for m in back]


def test_a_hung_task_hands_back_a_message_whose_outputs_were_not_yet_published(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    """Outputs are published per batch: a finished task's message is not done until then."""
    _, prepared_id, hung_id = send_batch(wiring, "done", "prepared", "hung")
    wiring.input_queue_visibility(60)
    done, prepared, hung = wiring.input_queue.receive(10, wait_seconds=1)
    called = threading.Event()
    keeper = LeaseKeeper(wiring.input_queue, task_timeout_seconds=1, on_hung_task=called.set)

    with caplog.at_level(logging.ERROR, logger="pylon.leases"), keeper.hold([done, prepared, hung]) as held:
        held.start(done)
        held.succeeded(done)
        held.start(prepared)
        held.prepared(prepared)
        held.start(hung)
        assert called.wait(15)
    keeper.close()

    assert "releasing it and 1 other unpublished message(s)" in caplog.text
    back = wiring.input_queue.receive(10, wait_seconds=1)
    assert sorted(m["MessageId"] for m in back) == sorted([prepared_id, hung_id])


def test_a_closed_keeper_serves_again_on_the_next_hold(wiring: Wiring) -> None:
    """runForever closes its keeper when it returns; a later runOnce must still be guarded."""
    send_batch(wiring, "x")
    [raw] = wiring.input_queue.receive(1, wait_seconds=1)
    called = threading.Event()
    keeper = LeaseKeeper(wiring.input_queue, task_timeout_seconds=1, on_hung_task=called.set)
    keeper.close()

    with keeper.hold([raw]) as held:
        held.start(raw)
        assert called.wait(15)
    keeper.close()


def test_a_hung_task_ends_the_process_and_its_batch_is_redelivered_at_once(
    wiring: Wiring,
) -> None:
    wiring.input_queue_visibility(120)
    config = dict(wiring.config(ComponentKind.PIPELINE, TASK_TIMEOUT_SECONDS=2))
    first_id, hung_id, waiting_id = send_batch(wiring, "first", "hang", "after")

    process = run_component_process("tests.runtime.hanging_component", json.dumps(config))

    assert process.returncode == HUNG_TASK_EXIT_CODE, process.stderr
    assert f"message {hung_id} hung: still in hand after TASK_TIMEOUT_SECONDS=2" in process.stderr
    assert "releasing it and 2 other unpublished message(s)" in process.stderr
    assert "Traceback" not in process.stderr
    # "first" was prepared, but a batch's outputs are published together, after the hang:
    # nothing went out, and all three come back now (not after the 120 s lease).
    back = wiring.input_queue.receive(10, wait_seconds=1)
    assert sorted(m["MessageId"] for m in back) == sorted([first_id, hung_id, waiting_id])
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back} == {"2"}
    assert wiring.observer.receive(10, wait_seconds=1) == []


def test_a_refused_delete_is_logged_and_the_batch_still_reports_success(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    @pylon.PipelineComponent
    def echo(message, config):  # type: ignore[no-untyped-def]
        return pylon.result([message], {})

    runtime = echo.configure(wiring.config(ComponentKind.PIPELINE))
    [message_id] = send_batch(wiring, "x")
    [raw] = wiring.input_queue.receive(1, wait_seconds=1)
    stale: SqsMessage = {**raw, "ReceiptHandle": "not-a-current-receipt-handle"}
    assert runtime.queue is not None
    worker = QueueWorker(runtime.path, runtime.queue)

    with caplog.at_level(logging.ERROR, logger="pylon.worker"):
        outcome = worker.process_batch([stale], StopSignal())
    worker.close()

    assert outcome.succeeded == [message_id]
    assert "deleting 1 processed message(s) failed" in caplog.text
    assert "processed again, with the same ingestionId" in caplog.text


def test_run_forever_carries_on_when_the_queue_disappears_and_returns(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    @pylon.PipelineComponent
    def echo(message, config):  # type: ignore[no-untyped-def]
        return pylon.result([message], {})

    runtime = echo.configure(wiring.config(ComponentKind.PIPELINE))
    assert runtime.queue is not None
    url = runtime.queue.url
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=url)
    stop = StopSignal()
    worker = QueueWorker(runtime.path, runtime.queue)

    with caplog.at_level(logging.ERROR, logger="pylon.worker"):
        thread = run_in_thread(lambda: worker.run_forever(stop))
        try:
            wait_until(lambda: "retrying in" in caplog.text, 15, what="a failed poll")
            sqs.create_queue(QueueName=wiring.input_queue_name)
            send_batch(wiring, "after the outage")
            [output] = [m for m in wiring.collect(2, timeout=30) if m.body == "after the outage"]
        finally:
            stop.request()
            thread.join(30)

    assert f"polling {wiring.input_queue_name} failed" in caplog.text
    assert output.objectType is ObjectType.RAW_CONTENT
    assert not thread.is_alive()


# ---------------------------------------------------------------- Lambda


def lambda_event(wiring: Wiring, *bodies: str) -> dict[str, object]:
    send_batch(wiring, *bodies)
    messages = wiring.input_queue.receive(10, wait_seconds=1)
    return dict(sqs_event_from_messages(messages, "arn:aws:sqs:us-east-1:000000000000:in", "us-east-1"))


def test_lambda_records_are_not_started_when_less_than_the_task_timeout_is_left(
    wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    @pylon.PipelineComponent
    def counted(message, config):  # type: ignore[no-untyped-def]
        calls.append(message.body)
        return pylon.result([message], {})

    counted.configure(wiring.config(ComponentKind.PIPELINE, TASK_TIMEOUT_SECONDS=5))
    event = lambda_event(wiring, "a", "b")

    response = counted.lambda_handler(event, LambdaContext("counted", timeout_seconds=3))

    assert calls == []
    records = event["Records"]
    assert isinstance(records, list)
    assert response == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
    assert "2 record(s) not started" in caplog.text


def test_lambda_records_run_while_the_invocation_has_time_left(wiring: Wiring) -> None:
    @pylon.PipelineComponent
    def echo(message, config):  # type: ignore[no-untyped-def]
        return pylon.result([message], {})

    echo.configure(wiring.config(ComponentKind.PIPELINE, TASK_TIMEOUT_SECONDS=5))
    event = lambda_event(wiring, "a", "b")

    response = echo.lambda_handler(event, LambdaContext("echo", timeout_seconds=60))

    assert response == {"batchItemFailures": []}
    assert len(wiring.collect(4)) == 4

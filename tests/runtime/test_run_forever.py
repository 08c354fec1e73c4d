"""`runForever` in a real process: SIGTERM finishes the message in hand, releases the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3

from pylon import BaseMessage, ObjectType
from pylon.config import ComponentKind
from tests.conftest import Wiring

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def test_sigterm_finishes_the_message_in_hand_then_stops(wiring: Wiring, tmp_path: Path) -> None:
    boto3.client("sqs").set_queue_attributes(
        QueueUrl=wiring.input_queue.url, Attributes={"VisibilityTimeout": "120"}
    )
    started, release = tmp_path / "started", tmp_path / "release"
    config = dict(wiring.config(ComponentKind.PIPELINE))
    config.update(STARTED_FILE=str(started), RELEASE_FILE=str(release))
    for text in ("one", "two", "three"):
        wiring.send(BaseMessage(body=text))
    env = {**os.environ, "PYLON_CONFIG": json.dumps(config), "IMAGE_NAME": "slow"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.slow_component"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(started.exists, 20, "the component to start its first message")
        process.send_signal(signal.SIGTERM)
        release.touch()
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, stderr
    assert "received SIGTERM" in stderr
    outputs = wiring.collect(2)
    done = [m.body for m in outputs if m.objectType is ObjectType.RAW_CONTENT]
    assert len(done) == 1 and str(done[0]).startswith("done: ")
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=wiring.input_queue.url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    # The two unstarted messages were handed back at once, not after the 120 s timeout.
    assert attributes["ApproximateNumberOfMessages"] == "2"
    assert "heartbeat run_forever" in stderr

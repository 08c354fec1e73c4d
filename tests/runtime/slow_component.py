"""A component run as a real process by test_run_forever: it holds its first message until
the test creates the file named by RELEASE_FILE, after announcing itself in STARTED_FILE."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pylon


@pylon.PipelineComponent
def slowTask(message, config):  # type: ignore[no-untyped-def]
    Path(config["STARTED_FILE"]).touch()
    deadline = time.monotonic() + 20
    while not Path(config["RELEASE_FILE"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    message.body = f"done: {message.body}"
    return pylon.result([message], {"pid": os.getpid()})


if __name__ == "__main__":
    slowTask.runForever()

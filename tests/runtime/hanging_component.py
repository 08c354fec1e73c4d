"""A component whose task hangs on a message with the body "hang" (until `release` is set,
which only an in-process test does); every other body is upper-cased. test_leases runs
it as a real process."""

from __future__ import annotations

import threading

import pylon

release = threading.Event()


@pylon.PipelineComponent
def hangingTask(message, config):  # type: ignore[no-untyped-def]
    if message.body == "hang":
        release.wait(3600)
    message.body = str(message.body).upper()
    return pylon.result([message], {})


if __name__ == "__main__":
    hangingTask.runForever()

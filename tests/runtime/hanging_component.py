"""A component run as a real process by test_leases: a message whose body is "hang" never
finishes (the task sleeps far past any limit); every other body is upper-cased."""

from __future__ import annotations

import time

import pylon


@pylon.PipelineComponent
def hangingTask(message, config):  # type: ignore[no-untyped-def]
    if message.body == "hang":
        time.sleep(3600)
    message.body = str(message.body).upper()
    return pylon.result([message], {})


if __name__ == "__main__":
    hangingTask.runForever()

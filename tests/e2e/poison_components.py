"""The component of test_poison_messages: it cannot digest "poison" until the bug is fixed."""

from __future__ import annotations

import threading

import pylon

bug_fixed = threading.Event()


@pylon.PipelineComponent
def picky(message, config):  # type: ignore[no-untyped-def]
    if message.body == "poison" and not bug_fixed.is_set():
        raise ValueError("cannot digest poison (bug 123)")
    message.body = str(message.body).upper()
    return pylon.result([message], {})

"""A child process's output as lines, handed to a `LineSink` as `(name, line)`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO

# Receives each line a named component, service or container writes.
LineSink = Callable[[str, str], None]


def pump_lines(name: str, stream: IO[bytes], sink: LineSink) -> threading.Thread:
    """Forward every line of `stream` to `sink` from a daemon thread until EOF."""

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            sink(name, raw.decode("utf-8", errors="replace").rstrip("\n"))
        stream.close()

    thread = threading.Thread(target=pump, name=f"log-{name}", daemon=True)
    thread.start()
    return thread

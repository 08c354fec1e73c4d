"""Prefixed, coloured log lines per component, like `docker compose up`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO

from rich.console import Console
from rich.text import Text

LineSink = Callable[[str, str], None]

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")


class PrefixedConsole:
    """A LineSink printing `name | line` with a stable colour per name."""

    def __init__(self, console: Console | None = None, width: int = 14) -> None:
        self._console = console or Console(highlight=False)
        self._width = width
        self._colours: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str, line: str) -> None:
        with self._lock:
            colour = self._colours.setdefault(name, _COLOURS[len(self._colours) % len(_COLOURS)])
            prefix = Text(f"{name:<{self._width}}| ", style=colour)
            self._console.print(prefix + Text(line), soft_wrap=True)


def pump_lines(name: str, stream: IO[bytes], sink: LineSink) -> threading.Thread:
    """Forward every line of `stream` to `sink` from a daemon thread until EOF."""

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            sink(name, raw.decode("utf-8", errors="replace").rstrip("\n"))
        stream.close()

    thread = threading.Thread(target=pump, name=f"log-{name}", daemon=True)
    thread.start()
    return thread

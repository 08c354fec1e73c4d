"""Prefixed, coloured log lines per component, like `docker compose up`.

Each line is shown without its leading date (the time stays: a local run spans minutes,
and the date pushed the seed's metric lines past 80 columns); a line longer than the
terminal wraps between words under its own text, so the prefix column stays clear.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import IO

from rich.console import Console
from rich.table import Table
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
            row = Table.grid()
            row.add_column(no_wrap=True)
            row.add_column(overflow="fold")  # fold splits only a word longer than the column
            row.add_row(Text(f"{name:<{self._width}}| ", style=colour), Text(shown(line)))
            self._console.print(row)


_LEADING_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} (?=\d{2}:\d{2}:\d{2})")


def shown(line: str) -> str:
    """The line as `pylon up` shows it: without a leading `YYYY-MM-DD ` date."""
    return _LEADING_DATE.sub("", line, count=1)


def pump_lines(name: str, stream: IO[bytes], sink: LineSink) -> threading.Thread:
    """Forward every line of `stream` to `sink` from a daemon thread until EOF."""

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            sink(name, raw.decode("utf-8", errors="replace").rstrip("\n"))
        stream.close()

    thread = threading.Thread(target=pump, name=f"log-{name}", daemon=True)
    thread.start()
    return thread

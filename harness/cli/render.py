"""What `pylon up` and `pylon provision` print, laid out to stay readable at 80 columns.

Component log lines are prefixed with their component's name, like `docker compose up`,
shown without their leading date (the time stays: a local run spans minutes, and the
date pushed the seed's metric lines past 80 columns), and wrapped between words under
their own text, so the prefix column stays clear.

Rich shrinks a table that is wider than the terminal by cutting its cells with "…" and
wraps a title that is wider than its table in the middle of a word. So titles are
printed as lines of their own, a column of ARNs/URLs is shown only when it fits whole
(otherwise one line per kind says how every address is formed), and bucket listings
print their keys relative to the prefix they share.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.endpoints import AwsEndpoint
from harness.pipeline.activity import QueueDepth
from harness.pipeline.summary import PipelineSummary

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
_LEADING_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} (?=\d{2}:\d{2}:\d{2})")

# Kinds whose address is not just a scheme plus the name (a bucket is s3://NAME).
_ADDRESS_KINDS = ("topic", "queue", "table")
# What rich adds around the cells of a bordered table: one bar per edge and two spaces
# of padding per column.
_BORDER = 1
_PADDING = 3


def title(text: str) -> Text:
    """A table's title on a line of its own: it wraps between words, never inside one."""
    return Text(text, style="bold")


def resources(heading: str, rows: Sequence[tuple[str, str, str]], width: int) -> Group:
    """(kind, name, ARN/URL) rows; the address column only when it fits in `width`."""
    with_addresses = _table_width(
        ["kind", *(r[0] for r in rows)],
        ["name", *(r[1] for r in rows)],
        ["ARN / URL", *(r[2] for r in rows)],
    )
    show_addresses = with_addresses <= width
    table = Table()
    table.add_column("kind", no_wrap=True)
    table.add_column("name", overflow="fold")
    if show_addresses:
        table.add_column("ARN / URL", no_wrap=True)
    for kind, name, address in rows:
        table.add_row(kind, name, *([address] if show_addresses else []))
    parts: list[RenderableType] = [title(heading), table]
    if not show_addresses:
        parts += [Text(line, style="dim") for line in address_patterns(rows)]
    return Group(*parts)


def routing(endpoint: AwsEndpoint) -> list[Text]:
    """One line per service sent elsewhere than the main endpoint (e.g. DynamoDB to the
    MiniStack beside LocalStack)."""
    return [
        Text(f"{service}: served at {url} (not at {endpoint.endpoint_url})", style="dim")
        for service, url in endpoint.service_endpoints
    ]


def address_patterns(rows: Iterable[tuple[str, str, str]]) -> list[str]:
    """One line per kind saying how its addresses are formed from the names."""
    patterns: dict[str, str] = {}
    for kind, name, address in rows:
        if kind in _ADDRESS_KINDS and address.endswith(name):
            patterns.setdefault(kind, address[: len(address) - len(name)] + "<name>")
    return [f"{kind} {_ADDRESS_WORD[kind]}: {pattern}" for kind, pattern in patterns.items()]


_ADDRESS_WORD = {"topic": "ARNs", "queue": "URLs", "table": "ARNs"}


def published(counts_by_topic: Mapping[str, Mapping[str, int]]) -> Group:
    table = Table()
    table.add_column("topic", overflow="fold")
    table.add_column("messages by objectType")
    for topic, counts in counts_by_topic.items():
        table.add_row(topic, ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "-")
    return Group(title("published"), table)


def queues(depths: Iterable[QueueDepth]) -> Group:
    table = Table()
    table.add_column("queue", overflow="fold")
    table.add_column("waiting", justify="right")
    table.add_column("in flight", justify="right")
    for depth in depths:
        table.add_row(depth.name, str(depth.visible), str(depth.in_flight))
    return Group(title("queues"), table)


def bucket(name: str, objects: Sequence[tuple[str, int]]) -> RenderableType:
    """A bucket's objects, keys shown after the prefix they all share."""
    if not objects:
        return Text.assemble(title(f"s3://{name}"), " is empty")
    prefix = shared_prefix([key for key, _ in objects])
    table = Table()
    table.add_column("key", overflow="fold")
    table.add_column("bytes", justify="right", no_wrap=True)
    for key, size in objects:
        table.add_row(key[len(prefix) :], str(size))
    return Group(title(f"s3://{name}/{prefix}"), table)


def shared_prefix(keys: Sequence[str]) -> str:
    """The longest folder path (ending in "/") that every key starts with."""
    folders = [key.split("/")[:-1] for key in keys]
    shared: list[str] = []
    for parts in zip(*folders, strict=False):
        if any(part != parts[0] for part in parts):
            break
        shared.append(parts[0])
    return "".join(f"{part}/" for part in shared)


def _table_width(*columns: list[str]) -> int:
    cells = sum(max((len(cell) for cell in column), default=0) for column in columns)
    return cells + len(columns) * _PADDING + _BORDER


def summary(of: PipelineSummary) -> list[RenderableType]:
    """Everything `pylon up` prints when it stops: published, queues, bucket contents."""
    return [
        published(of.published),
        queues(of.queues),
        *(bucket(name, objects) for name, objects in of.objects.items()),
    ]


def print_all(console: Console, renderables: Iterable[RenderableType]) -> None:
    for renderable in renderables:
        console.print(renderable)


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


def shown(line: str) -> str:
    """The line as `pylon up` shows it: without a leading `YYYY-MM-DD ` date."""
    return _LEADING_DATE.sub("", line, count=1)

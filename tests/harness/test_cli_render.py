"""What `pylon up` and `pylon provision` print, rendered at a fixed width."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from harness.cli import render as console_tables
from harness.cli.render import PrefixedConsole, shown
from harness.pipeline.activity import QueueDepth

ROWS = [
    ("topic", "documents", "arn:aws:sns:us-east-1:000000000000:documents"),
    (
        "queue",
        "docs-pylon-lineage-in-dlq",
        "http://127.0.0.1:4566/000000000000/docs-pylon-lineage-in-dlq",
    ),
    (
        "subscription",
        "documents -> docs-pylon-lineage-in",
        "arn:aws:sns:us-east-1:000000000000:documents:5e1f",
    ),
    ("bucket", "docs-payloads", "s3://docs-payloads"),
    ("table", "docs-lineage", "arn:aws:dynamodb:us-east-1:000000000000:table/docs-lineage"),
]


def render(width: int, *renderables: RenderableType) -> list[str]:
    console = Console(width=width, file=io.StringIO(), highlight=False, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def test_resources_at_80_columns_keep_every_name_whole_and_say_how_addresses_are_formed() -> None:
    lines = render(80, console_tables.resources("docs at http://127.0.0.1:4566", ROWS, 80))

    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text
    for _, name, _ in ROWS:
        assert name in text
    assert "topic ARNs: arn:aws:sns:us-east-1:000000000000:<name>" in lines
    assert "queue URLs: http://127.0.0.1:4566/000000000000/<name>" in lines
    assert "table ARNs: arn:aws:dynamodb:us-east-1:000000000000:table/<name>" in lines


def test_resources_on_a_wide_terminal_show_every_address_whole() -> None:
    lines = render(160, console_tables.resources("docs", ROWS, 160))

    text = "\n".join(lines)
    for _, _, address in ROWS:
        assert address in text
    assert "<name>" not in text


def test_an_empty_bucket_is_one_line_not_a_table_with_a_broken_title() -> None:
    assert render(80, console_tables.bucket("docs-payloads", [])) == ["s3://docs-payloads is empty"]


def test_bucket_keys_are_shown_after_the_folder_they_share() -> None:
    objects = [
        ("lake/weather/readings/country=NL/observed_date=2024-05-01/part-0000.jsonl", 2946),
        ("lake/weather/readings/country=NL/observed_date=2024-05-02/part-0000.jsonl", 2208),
    ]
    lines = render(80, console_tables.bucket("docs-lake", objects))

    assert lines[0] == "s3://docs-lake/lake/weather/readings/country=NL/"
    assert any("observed_date=2024-05-01/part-0000.jsonl" in line for line in lines)
    assert max(len(line) for line in lines) <= 80


def test_shared_prefix_is_a_whole_folder() -> None:
    assert console_tables.shared_prefix(["a/bc/x", "a/bd/y"]) == "a/"
    assert console_tables.shared_prefix(["a/b/x.json"]) == "a/b/"
    assert console_tables.shared_prefix(["x", "a/y"]) == ""


def test_summary_titles_are_lines_of_their_own() -> None:
    lines = render(
        40,
        console_tables.published({"documents": {"urlResource": 3, "ingestionStep": 1}}),
        console_tables.queues([QueueDepth("parser-in", 0, 2)]),
    )
    assert "published" in lines and "queues" in lines
    assert max(len(line) for line in lines) <= 40


def test_component_lines_drop_the_date_and_wrap_between_words_under_their_text() -> None:
    console = Console(width=80, file=io.StringIO(), highlight=False, color_system=None)
    sink = PrefixedConsole(console)
    sink("lake-writer", "2026-12-02 02:17:35,026 INFO pylon heartbeat run_forever")
    sink(
        "lake-writer",
        "2026-12-02 02:17:35,026 INFO pylon.shutdown received SIGTERM: finishing the "
        "message in hand, then stopping",
    )
    lines = [line.rstrip() for line in console.file.getvalue().splitlines()]  # type: ignore[attr-defined]

    assert lines[0] == "lake-writer   | 02:17:35,026 INFO pylon heartbeat run_forever"
    assert lines[1].startswith("lake-writer   | 02:17:35,026 INFO pylon.shutdown received")
    assert lines[2].startswith(" " * 16) and lines[2].strip().startswith(("the ", "message"))
    assert max(len(line) for line in lines) <= 80


def test_only_a_leading_date_is_dropped() -> None:
    assert shown("2026-12-02 02:17:35,026 INFO x") == "02:17:35,026 INFO x"
    assert shown("serving http://127.0.0.1:8080/ since 2026-12-02 02:17:35") == (
        "serving http://127.0.0.1:8080/ since 2026-12-02 02:17:35"
    )

"""The command line every benchmark shares: `--quick`, `--json PATH`, a table, exit codes.

Exit codes: 0 when the benchmark measured (whether or not a target was met: a missed
target is a finding, not an error), 1 when it could not measure (an emulator that did not
start, a worker that crashed), 2 on usage errors (argparse's).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from bench.report import Report
from pylon.errors import PylonError

Measure = Callable[[argparse.Namespace], Report]


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    result = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    result.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and one repetition: checks the script works, figures mean little",
    )
    result.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    return result


def output_console() -> Console:
    """Rich's console; 160 columns when writing to a file or pipe, where it would pick 80."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 160
    return console


def add_endpoint_option(arguments: argparse.ArgumentParser) -> None:
    arguments.add_argument(
        "--endpoint",
        metavar="URL",
        help="measure against this running emulator (loopback only) instead of starting "
        "the embedded MiniStack",
    )


def run(arguments: argparse.ArgumentParser, measure: Measure, argv: Sequence[str] | None) -> int:
    """Parse, measure, print the table, write JSON; errors become one line and exit 1."""
    options = arguments.parse_args(argv)
    console = output_console()
    started = time.perf_counter()
    try:
        report = measure(options)
    except PylonError as exc:
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {exc}")
        return 1
    report.duration_s = time.perf_counter() - started
    report.parameters["quick"] = bool(options.quick)
    report.print(console)
    if options.json is not None:
        report.write_json(options.json)
        console.print(f"results written to {options.json}")
    return 0

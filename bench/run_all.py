"""Run every benchmark and regenerate `bench/RESULTS.md` and `bench/results/latest.json`.

    python -m bench.run_all [--conditions TEXT] [--only NAME ...] [--quick] [--output PATH]
    make bench                        # the same, with the defaults

Each benchmark runs in its own process (`python -m bench.<name> --json ...`), one after
the other, so none inherits another's imports, threads or garbage. Nothing is written
unless every benchmark measured; the exit code is 1 when one could not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.cli import output_console
from bench.machine import PROJECT_ROOT, machine_info
from bench.results import render

BENCHMARKS = ("throughput", "overhead", "payloads", "startup", "memory", "ui", "reload")
RESULTS_MD = PROJECT_ROOT / "bench" / "RESULTS.md"
LATEST_JSON = PROJECT_ROOT / "bench" / "results" / "latest.json"


def run_benchmark(
    name: str, json_path: Path, quick: bool, console: Console
) -> dict[str, Any] | None:
    """Run one benchmark (its table goes to our output); its results, or None if it failed."""
    console.rule(f"bench.{name}")
    argv = [sys.executable, "-m", f"bench.{name}", "--json", str(json_path)]
    completed = subprocess.run([*argv, "--quick"] if quick else argv, cwd=PROJECT_ROOT, check=False)
    if completed.returncode != 0:
        console.print(f"[red]bench.{name} exited with {completed.returncode}[/red]")
        return None
    loaded: dict[str, Any] = json.loads(json_path.read_text())
    return loaded


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(
        prog="python -m bench.run_all",
        description="Run every benchmark; regenerate bench/RESULTS.md and bench/results/latest.json.",
    )
    arguments.add_argument(
        "--conditions",
        default="",
        help="how quiet the machine was, recorded in RESULTS.md (e.g. 'quiet machine')",
    )
    arguments.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    arguments.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    arguments.add_argument(
        "--output",
        type=Path,
        help=f"directory for RESULTS.md and latest.json (default: {RESULTS_MD.parent.relative_to(PROJECT_ROOT)} "
        "and its results/; required with --quick or --only, so a partial run never replaces them)",
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser()
    options = arguments.parse_args(argv)
    if (options.quick or options.only) and options.output is None:
        arguments.error(
            "--quick and --only need --output DIR: they must not replace bench/RESULTS.md"
        )
    console = output_console()
    machine = machine_info()
    reports = []
    with tempfile.TemporaryDirectory(prefix="pylon-bench-") as scratch:
        for name in options.only or BENCHMARKS:
            report = run_benchmark(name, Path(scratch) / f"{name}.json", options.quick, console)
            if report is None:
                console.print("[red]not writing results: a benchmark failed[/red]")
                return 1
            reports.append(report)
    results_md, latest_json = (
        (RESULTS_MD, LATEST_JSON)
        if options.output is None
        else (options.output / "RESULTS.md", options.output / "latest.json")
    )
    latest_json.parent.mkdir(parents=True, exist_ok=True)
    latest_json.write_text(
        json.dumps(
            {"machine": machine, "conditions": options.conditions, "reports": reports}, indent=2
        )
        + "\n"
    )
    results_md.write_text(render(machine, reports, options.conditions))
    console.print(f"wrote {results_md} and {latest_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a benchmark reports: figures, each beside its baseline and target, as a table or JSON.

A figure is never shown alone: the baseline was measured in the same run on the same
machine, so the ratio stays meaningful when the machine is slow or busy even though the
absolute numbers are not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

SCHEMA_VERSION = 1


class TargetKind(StrEnum):
    RATIO_AT_LEAST = "ratio_at_least"
    """value / baseline must be at least `bound` (throughput: higher is better)."""
    RATIO_AT_MOST = "ratio_at_most"
    """value / baseline must be at most `bound` (time: lower is better)."""
    VALUE_AT_MOST = "value_at_most"
    """the value itself must be at most `bound`, in the figure's unit."""


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    bound: float

    def met(self, value: float, baseline: float | None) -> bool | None:
        """Whether the figure reaches the target; None when there is nothing to compare."""
        if self.kind is TargetKind.VALUE_AT_MOST:
            return value <= self.bound
        ratio = _ratio(value, baseline)
        if ratio is None:
            return None
        if self.kind is TargetKind.RATIO_AT_LEAST:
            return ratio >= self.bound
        return ratio <= self.bound

    def describe(self, unit: str) -> str:
        if self.kind is TargetKind.VALUE_AT_MOST:
            return f"≤ {self.bound:g} {unit}"
        sign = "≥" if self.kind is TargetKind.RATIO_AT_LEAST else "≤"
        return f"{sign} {self.bound:.2f}x baseline"


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return value / baseline


@dataclass(frozen=True)
class Figure:
    """One measured figure and the baseline it is read against.

    `skipped` holds the reason when the figure could not be measured on this machine
    (only the Docker-backed emulator may be skipped: no engine, no figure).
    """

    name: str
    value: float | None
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: Target | None = None
    note: str = ""
    skipped: str | None = None

    @property
    def ratio(self) -> float | None:
        return _ratio(self.value, self.baseline)

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.target.met(self.value, self.baseline)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline_name": self.baseline_name,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target.describe(self.unit) if self.target else None,
            "target_kind": self.target.kind.value if self.target else None,
            "target_bound": self.target.bound if self.target else None,
            "meets_target": self.meets_target,
            "note": self.note,
            "skipped": self.skipped,
        }


@dataclass
class Report:
    """Everything one benchmark run measured, with the parameters it ran with."""

    benchmark: str
    title: str
    parameters: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "benchmark": self.benchmark,
            "title": self.title,
            "parameters": self.parameters,
            "duration_s": round(self.duration_s, 3),
            "figures": [figure.to_json() for figure in self.figures],
            "notes": self.notes,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def table(self) -> Table:
        table = Table(title=self.title, title_justify="left")
        for column in ("figure", "value", "baseline", "ratio", "target"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for figure in self.figures:
            table.add_row(*table_cells(figure))
        return table

    def print(self, console: Console) -> None:
        console.print(self.table())
        for note in self.notes:
            console.print(f"  {note}", soft_wrap=True)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 1 else 3
    return f"{value:,.{digits}f} {unit}"


def format_target(figure: Figure) -> str:
    if figure.target is None:
        return ""
    verdict = {True: "met", False: "MISSED", None: "n/a"}[figure.meets_target]
    return f"{figure.target.describe(figure.unit)}: {verdict}"


def table_cells(figure: Figure) -> tuple[str, str, str, str, str]:
    """figure, value, baseline, ratio, target: as the table and RESULTS.md show them."""
    if figure.skipped is not None:
        return (figure.name, f"skipped: {figure.skipped}", "", "", "")
    baseline = (
        f"{format_value(figure.baseline, figure.unit)} ({figure.baseline_name})"
        if figure.baseline_name
        else ""
    )
    ratio = "" if figure.ratio is None else f"{figure.ratio:.3f}x"
    name = f"{figure.name} ({figure.note})" if figure.note else figure.name
    return (name, format_value(figure.value, figure.unit), baseline, ratio, format_target(figure))

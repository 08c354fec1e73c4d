"""The reliability report: faults injected and what became of the messages.

Written as Markdown (for people; the test suite prints it at the end) and JSON (for
tools), side by side: `reliability.md` and `reliability.json`.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.reliability.accounting import DeadLetter, Ledger, StageCount
from harness.reliability.faults import Fault
from harness.reliability.memory import MemoryGrowth


@dataclass(frozen=True)
class ReliabilityReport:
    title: str
    inputs: int
    stages: list[StageCount]
    dead_letters: list[DeadLetter]
    missing: list[str]
    faults: list[Fault]
    duration_seconds: float
    notes: list[str] = field(default_factory=list)
    # A soak's memory: each process's verdict, its RSS series, and the chart's file name.
    memory: list[MemoryGrowth] = field(default_factory=list)
    memory_series: dict[str, list[list[float]]] = field(default_factory=dict)
    memory_chart: str | None = None

    @classmethod
    def from_ledger(
        cls,
        title: str,
        ledger: Ledger,
        faults: list[Fault],
        duration_seconds: float,
        notes: list[str] | None = None,
    ) -> ReliabilityReport:
        return cls(
            title=title,
            inputs=len(ledger.keys),
            stages=[ledger.stage_count(stage) for stage in ledger.stages],
            dead_letters=list(ledger.dead_letters),
            missing=ledger.missing(),
            faults=list(faults),
            duration_seconds=round(duration_seconds, 1),
            notes=list(notes or []),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_markdown(self) -> str:
        lines = [
            f"# Reliability: {self.title}",
            "",
            f"{self.inputs} inputs in {self.duration_seconds} s; "
            f"{len(self.missing)} missing, {len(self.dead_letters)} in dead-letter queues "
            f"({sum(1 for d in self.dead_letters if d.reason)} with their reason), "
            f"{sum(s.duplicates for s in self.stages)} duplicates "
            f"({sum(s.undetectable for s in self.stages)} undetectable).",
            "",
            "## Messages by stage",
            "",
            "| stage | inputs delivered | copies | duplicates | same ingestionId | "
            "same parent ingestionId | undetectable |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {s.stage} | {s.delivered} | {s.copies} | {s.duplicates} | "
            f"{s.same_ingestion_id} | {s.same_parent} | {s.undetectable} |"
            for s in self.stages
        ]
        lines += ["", "## Faults injected", "", "| fault | count |", "|---|---:|"]
        totals: Counter[str] = Counter()
        for fault in self.faults:
            totals[fault.kind] += fault.count
        lines += [f"| {kind} | {n} |" for kind, n in sorted(totals.items())]
        lines += ["", "| at (s) | fault | count | target | detail |", "|---:|---|---:|---|---|"]
        lines += [
            f"| {f.at_seconds} | {f.kind} | {f.count} | {f.target} | {f.detail} |"
            for f in self.faults
        ]
        lines += [
            "",
            "## Dead letters",
            "",
            "| stage | input | message id | reason |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {d.stage} | {d.key} | {d.message_id} | {d.reason or '(no reason logged)'} |"
            for d in self.dead_letters
        ]
        lines += ["", f"Missing inputs: {', '.join(self.missing) or 'none'}."]
        lines += self._memory_lines()
        if self.notes:
            lines += ["", "## Notes", "", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"

    def _memory_lines(self) -> list[str]:
        if not self.memory:
            return []
        lines = [
            "",
            "## Memory (RSS, mean of the first and the last quarter of each process's run)",
            "",
            "| process | first quarter (MiB) | last quarter (MiB) | growth | samples |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {m.name} | {m.first_quarter_mib} | {m.last_quarter_mib} | {m.growth:+.1%} | "
            f"{m.samples} |"
            for m in self.memory
        ]
        if self.memory_chart:
            lines += ["", f"![RSS over the run]({self.memory_chart})"]
        return lines

    def write(self, directory: Path, stem: str = "reliability") -> Path:
        """Write `<stem>.md` and `<stem>.json` into `directory`; return the Markdown path."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{stem}.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        markdown = directory / f"{stem}.md"
        markdown.write_text(self.to_markdown())
        return markdown

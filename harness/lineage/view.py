"""Showing a lineage chain: a rich tree for people, a JSON document for machines.

The tree reads like the pipeline: the root source at the top, each step nested under the
step it came from, and the record asked about (highlighted) at the bottom.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from rich.tree import Tree

from harness.testing.lineage import LineageChain
from pylon.models.ingestion_step import IngestionStep


def lineage_tree(chain: LineageChain) -> Tree:
    """Root source first; every step shows artifact, version, id, time and metadata."""
    root_first = list(reversed(chain.steps))
    asked = chain.steps[0].ingestionId
    tree = Tree(Text(f"lineage of {asked} ({len(root_first)} steps, root source first)"))
    parent = tree
    for step in root_first:
        node = parent.add(_label(step, highlighted=step.ingestionId == asked))
        for name, value in sorted(step.metadata.items()):
            node.add(Text.assemble((f"{name}: ", "dim"), _compact(value)))
        parent = node
    return tree


def _label(step: IngestionStep, *, highlighted: bool) -> Text:
    return Text.assemble(
        (step.artifactName, "bold green" if highlighted else "bold"),
        f" {step.artifactVersion}  ",
        ("ingestion ", "dim"),
        step.ingestionId,
        ("  at ", "dim"),
        step.dimUTCTimestamp,
    )


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "…"


def chain_document(chain: LineageChain) -> dict[str, Any]:
    """`{"ingestionId": asked, "root": id, "steps": [root first, …]}` for `--json`."""
    return {
        "ingestionId": chain.steps[0].ingestionId,
        "root": chain.steps[-1].ingestionId,
        "steps": [step.to_dict() for step in reversed(chain.steps)],
    }

"""Accounting: what became of every numbered input, stage by stage.

Each input has a key (its number). For every stage (a topic where a component
publishes) the ledger records each copy delivered, with its `ingestionId` and its
parent's; dead letters are recorded with the reason their component logged. Then:

- missing: keys neither delivered by the final stage nor in any dead-letter queue;
- duplicates: extra copies of a key at a stage. A duplicate is detectable when it
  shares its `ingestionId` with another copy (the component processed the same input
  message twice) or, failing that, its parent's (the input itself was delivered twice
  upstream); one that shares neither is undetectable, which Pylon must never produce.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """One copy of a key published at a stage."""

    key: str
    ingestion_id: str | None
    parent_ingestion_id: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    key: str
    stage: str
    message_id: str
    reason: str | None


@dataclass(frozen=True)
class StageCount:
    stage: str
    delivered: int  # distinct keys
    copies: int
    duplicates: int
    same_ingestion_id: int
    same_parent: int
    undetectable: int


class Ledger:
    """Inputs by key; `stages` in pipeline order, the last one delivering the result."""

    def __init__(self, keys: Iterable[str], stages: Sequence[str]) -> None:
        self.keys = list(dict.fromkeys(keys))
        self.stages = list(stages)
        self._copies: dict[str, dict[str, list[Delivery]]] = {s: defaultdict(list) for s in stages}
        self.dead_letters: list[DeadLetter] = []

    def delivered(self, stage: str, delivery: Delivery) -> None:
        self._copies[stage][delivery.key].append(delivery)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letters.append(letter)

    def delivered_keys(self, stage: str | None = None) -> set[str]:
        return {k for k, copies in self._copies[stage or self.stages[-1]].items() if copies}

    def accounted(self) -> set[str]:
        return self.delivered_keys() | {letter.key for letter in self.dead_letters}

    def missing(self) -> list[str]:
        accounted = self.accounted()
        return [key for key in self.keys if key not in accounted]

    def unexplained_dead_letters(self) -> list[DeadLetter]:
        return [letter for letter in self.dead_letters if not letter.reason]

    def copies(self, stage: str, key: str) -> list[Delivery]:
        return list(self._copies[stage].get(key, []))

    def stage_count(self, stage: str) -> StageCount:
        counts = [_duplicates(copies) for copies in self._copies[stage].values() if copies]
        return StageCount(
            stage=stage,
            delivered=len(counts),
            copies=sum(len(c) for c in self._copies[stage].values()),
            duplicates=sum(c[0] for c in counts),
            same_ingestion_id=sum(c[1] for c in counts),
            same_parent=sum(c[2] for c in counts),
            undetectable=sum(c[3] for c in counts),
        )


def _duplicates(copies: list[Delivery]) -> tuple[int, int, int, int]:
    """(duplicates, sharing an ingestionId, sharing only a parent, sharing neither)."""
    by_id: dict[str | None, list[Delivery]] = defaultdict(list)
    for copy in copies:
        by_id[copy.ingestion_id].append(copy)
    # Copies without an ingestionId cannot be matched on it: each stands alone.
    groups = [[c] for c in by_id.pop(None, [])] + list(by_id.values())
    same_id = sum(len(group) - 1 for group in groups)
    parents = [group[0].parent_ingestion_id for group in groups]
    distinct_parents = len({p for p in parents if p is not None}) + parents.count(None)
    same_parent = len(groups) - distinct_parents
    return len(copies) - 1, same_id, same_parent, distinct_parents - 1

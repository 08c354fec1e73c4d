"""Lineage assertions: walk `parentIngestionId` from an output back to the root source."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.errors import HarnessError
from pylon.models.ingestion_step import IngestionStep
from pylon.models.messages import BaseMessage


class LineageError(HarnessError, AssertionError):
    """The chain is broken or not what the test expected."""


@dataclass(frozen=True)
class LineageChain:
    """Steps from the given record (first) to the root source (last)."""

    steps: tuple[IngestionStep, ...]

    @property
    def artifact_names(self) -> list[str]:
        """Root first, as a pipeline is read: ['fetcher', 'parser', ...]."""
        return [step.artifactName for step in reversed(self.steps)]

    def __str__(self) -> str:
        return " -> ".join(
            f"{s.artifactName}@{s.artifactVersion}({s.ingestionId[:8]})"
            for s in reversed(self.steps)
        )


def steps_from(messages: Iterable[BaseMessage]) -> dict[str, IngestionStep]:
    """Index the ingestion steps among recorded messages by id."""
    return {m.body.ingestionId: m.body for m in messages if isinstance(m.body, IngestionStep)}


def lineage_chain(ingestion_id: str, steps: dict[str, IngestionStep]) -> LineageChain:
    """Follow parents from `ingestion_id` to a step without parent; fail on gaps or cycles."""
    chain: list[IngestionStep] = []
    current: str | None = ingestion_id
    while current is not None:
        step = steps.get(current)
        if step is None:
            known = ", ".join(f"{s.artifactName}:{i[:8]}" for i, s in steps.items())
            walked = " <- ".join(s.artifactName for s in chain) or "(nothing)"
            raise LineageError(
                f"ingestion step {current} not found after walking {walked}; known steps: {known}"
            )
        if step in chain:
            raise LineageError(f"lineage cycle at {current}")
        chain.append(step)
        current = step.parentIngestionId
    return LineageChain(tuple(chain))


def assert_lineage(
    message: BaseMessage, expected_artifacts: Sequence[str], steps: dict[str, IngestionStep]
) -> LineageChain:
    """Check that `message` descends, root first, from exactly `expected_artifacts`."""
    if not message.ingestionId:
        raise LineageError(f"message {message.messageId} carries no ingestionId")
    chain = lineage_chain(message.ingestionId, steps)
    if chain.artifact_names != list(expected_artifacts):
        raise LineageError(
            f"lineage is {chain.artifact_names}, expected {list(expected_artifacts)}: {chain}"
        )
    return chain

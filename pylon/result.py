"""`pylon.result()`: what a task returns — output messages plus lineage metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pylon.errors import TaskError
from pylon.models.messages import BaseMessage


@dataclass
class PylonResult:
    """Output messages to publish, and metadata recorded in the ingestion step."""

    messages: list[BaseMessage] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def result(
    messages: Iterable[BaseMessage] | None = None, metadata: Mapping[str, Any] | None = None
) -> PylonResult:
    """Build a PylonResult, checking now what would otherwise fail at publish time."""
    collected = list(messages or [])
    for index, message in enumerate(collected):
        if not isinstance(message, BaseMessage):
            raise TaskError(
                f"pylon.result(): messages[{index}] is a {type(message).__name__}, "
                "expected a pylon BaseMessage"
            )
    if metadata is not None and type(metadata) is not dict and not isinstance(metadata, Mapping):
        raise TaskError(f"pylon.result(): metadata must be a dict, got {type(metadata).__name__}")
    return PylonResult(collected, dict(metadata or {}))


def as_result(returned: Any, task_name: str) -> PylonResult:
    """Accept what tasks return in practice: a PylonResult, a list of messages, or None."""
    if returned is None:
        return PylonResult()
    if isinstance(returned, PylonResult):
        return returned
    if isinstance(returned, BaseMessage):
        return result([returned])
    if isinstance(returned, list | tuple):
        return result(returned)
    raise TaskError(
        f"task {task_name} returned a {type(returned).__name__}; return "
        "pylon.result([...], {...}), a list of BaseMessage, or None"
    )

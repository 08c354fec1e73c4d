"""Hooks: cross-cutting concerns around the message path (dramatiq-style middleware).

Lineage, timings, payload offload and visibility extension are each a `Hook` subclass
overriding only what it needs; the path itself calls `Hooks` at fixed points and has
no `if` for any of them.

A batch consumer prepares every message of a batch before it publishes their outputs
together, so `before_message` of the next message may come before `after_message` of
this one: keep per-message state on the `Execution`, not on the hook.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylon.execution import Execution


class Hook:
    """No-op base: override the points you need."""

    def before_message(self, execution: Execution) -> None:
        """Before anything is decoded (a source run has no inbound message)."""

    def before_task(self, execution: Execution) -> None:
        """After decode and payload retrieval, just before the task runs."""

    def after_task(self, execution: Execution) -> None:
        """After the task returned; `execution.outputs` may be amended."""

    def before_publish(self, execution: Execution) -> None:
        """After encoding; `execution.wires` may be replaced (e.g. offloaded)."""

    def after_message(self, execution: Execution, error: BaseException | None) -> None:
        """Always called last, with the error if the path failed."""


class Hooks(Hook):
    """Calls hooks in order on the way in and in reverse order on the way out."""

    def __init__(self, hooks: Sequence[Hook]) -> None:
        self._hooks = list(hooks)

    def before_message(self, execution: Execution) -> None:
        for hook in self._hooks:
            hook.before_message(execution)

    def before_task(self, execution: Execution) -> None:
        for hook in self._hooks:
            hook.before_task(execution)

    def after_task(self, execution: Execution) -> None:
        for hook in reversed(self._hooks):
            hook.after_task(execution)

    def before_publish(self, execution: Execution) -> None:
        for hook in reversed(self._hooks):
            hook.before_publish(execution)

    def after_message(self, execution: Execution, error: BaseException | None) -> None:
        for hook in reversed(self._hooks):
            hook.after_message(execution, error)

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
    """Calls hooks in order on the way in and in reverse order on the way out.

    Each point calls only the hooks that override it: most hooks need one or two of the
    five, and the path passes every point once per message.
    """

    def __init__(self, hooks: Sequence[Hook]) -> None:
        self._hooks = list(hooks)
        inward, outward = self._hooks, self._hooks[::-1]
        self._before_message = _overriding(inward, "before_message")
        self._before_task = _overriding(inward, "before_task")
        self._after_task = _overriding(outward, "after_task")
        self._before_publish = _overriding(outward, "before_publish")
        self._after_message = _overriding(outward, "after_message")

    def before_message(self, execution: Execution) -> None:
        for hook in self._before_message:
            hook.before_message(execution)

    def before_task(self, execution: Execution) -> None:
        for hook in self._before_task:
            hook.before_task(execution)

    def after_task(self, execution: Execution) -> None:
        for hook in self._after_task:
            hook.after_task(execution)

    def before_publish(self, execution: Execution) -> None:
        for hook in self._before_publish:
            hook.before_publish(execution)

    def after_message(self, execution: Execution, error: BaseException | None) -> None:
        for hook in self._after_message:
            hook.after_message(execution, error)


def _overriding(hooks: Sequence[Hook], point: str) -> tuple[Hook, ...]:
    """The hooks whose class overrides `point` (the others would do nothing there)."""
    return tuple(h for h in hooks if getattr(type(h), point) is not getattr(Hook, point))

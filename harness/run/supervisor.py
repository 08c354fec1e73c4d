"""Restarting component processes that end, as ECS replaces a service's stopped tasks.

A component process ends on its own after a hung task (exit code 70), after SIGTERM
(exit code 0), or is killed (SIGKILL, -9); on ECS the service scheduler starts a
replacement. `Supervisor.restart_exited()` does the same for a `ProcessRunner`:

    supervisor = Supervisor(runner, provisioned.components.values())
    while waiting:
        supervisor.restart_exited()

It is called from the caller's own wait loop rather than from a thread of its own: a
child's parent-death signal is tied to the thread that started it (see
`harness.processes.groups.parent_death_hook`), so restarts belong on a long-lived one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.provision import ProvisionedComponent
from harness.run.processes import ProcessRunner


@dataclass(frozen=True)
class Restart:
    """One replaced process: which component, how its process ended, and when."""

    component: str
    exit_code: int
    at: float = field(default_factory=time.monotonic)


class Supervisor:
    def __init__(self, runner: ProcessRunner, components: Iterable[ProvisionedComponent]):
        self._runner = runner
        self._components = {c.spec.name: c for c in components}
        self.restarts: list[Restart] = []

    def restart_exited(self) -> list[Restart]:
        """Start a new process for every component whose process has ended."""
        done = [
            Restart(name, code)
            for name, code in self._runner.exited().items()
            if name in self._components
        ]
        for restart in done:
            self._runner.start_component(self._components[restart.component])
        self.restarts.extend(done)
        return done

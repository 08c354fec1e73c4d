"""Each component as its own `runForever` process, as it would run on ECS.

Logs are streamed with a per-component prefix; stopping sends SIGTERM (the component
finishes the message in hand), then SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.endpoints import AwsEndpoint
from harness.lifecycle import Running
from harness.processes.groups import parent_death_hook, reap_group, request_stop
from harness.processes.output import LineSink, pump_lines
from harness.provision import ProvisionedComponent

# ECS's default stopTimeout: how long a component may take to finish its message.
STOP_GRACE_SECONDS = 30.0


def start_piped(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start a child in its own process group, output piped, dying with its parent."""
    return subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=parent_death_hook(),
    )


def _retire(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        request_stop(process)
    threading.Thread(
        target=reap_group, args=(process, STOP_GRACE_SECONDS), name="pylon-retire", daemon=True
    ).start()


def component_environment(
    component: ProvisionedComponent, endpoint: AwsEndpoint, cwd: Path
) -> dict[str, str]:
    env = {**os.environ, **component.environment(endpoint)}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd), os.environ.get("PYTHONPATH")]))
    return env


class ProcessRunner(Running):
    """Starts components as subprocesses; `stop()` (or leaving the `with`) stops them all."""

    def __init__(
        self,
        components: Sequence[ProvisionedComponent],
        endpoint: AwsEndpoint,
        sink: LineSink,
        cwd: Path | None = None,
    ) -> None:
        self._components = list(components)
        self._endpoint = endpoint
        self._sink = sink
        self._cwd = cwd or Path.cwd()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        for component in self._components:
            self.start_component(component)

    def start_component(self, component: ProvisionedComponent) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "harness.run.launch", component.spec.entrypoint]
        env = component_environment(component, self._endpoint, self._cwd)
        process = start_piped(argv, env, self._cwd)
        assert process.stdout is not None
        pump_lines(component.spec.name, process.stdout, self._sink)
        self.processes[component.spec.name] = process
        return process

    def replace(self, component: ProvisionedComponent) -> None:
        """Run `component` with its current code and environment: the new process starts
        first, then the old one is asked to stop (it finishes the message in hand, or
        that message returns to its queue) and is reaped on a thread, so the queue is
        never without a consumer while the new code starts."""
        old = self.processes.get(component.spec.name)
        self.start_component(component)
        if old is not None:
            _retire(old)

    def remove(self, name: str) -> None:
        """Stop a component for good (it finishes the message in hand)."""
        process = self.processes.pop(name, None)
        if process is not None:
            _retire(process)

    def exited(self) -> dict[str, int]:
        """Components whose process has ended, with their exit codes."""
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def stop(self) -> dict[str, int]:
        """SIGTERM every component at once, then wait for each (SIGKILL after the grace)."""
        # Every component is asked first, so they finish their messages in parallel.
        for process in self.processes.values():
            request_stop(process)
        codes = {
            name: reap_group(process, STOP_GRACE_SECONDS)
            for name, process in self.processes.items()
        }
        self.processes.clear()
        return codes

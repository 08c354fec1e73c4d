"""Which runner runs which component of a local pipeline, and replacing one of them.

`ComponentRunners` starts the runners a pipeline needs (processes, containers or
threads for long-running components; Lambda functions, or in-process mapping loops, for
`mode: lambda`) and remembers which runs which component, so that hot reload
(`harness.watch`) can replace, add or remove one component without touching the others.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import boto3

from harness.endpoints import AwsEndpoint
from harness.lifecycle import Running
from harness.processes.output import LineSink
from harness.provision import ProvisionedComponent
from harness.run.esm_loop import EventSourceMappingLoop
from harness.run.inprocess import InProcessRunner, component_config
from harness.run.lambda_deploy import LambdaRunner
from harness.run.loader import load_component
from harness.run.processes import ProcessRunner
from harness.spec import RunMode


class ReloadableRunner(Protocol):
    """What every runner offers hot reload (besides start and stop)."""

    def start(self) -> object: ...

    def stop(self) -> object: ...

    def replace(self, component: ProvisionedComponent) -> None: ...

    def remove(self, name: str) -> None: ...

    def exited(self) -> dict[str, int]: ...


class InProcessLambdas(Running):
    """`mode: lambda` components under the in-process runner: one mapping loop each,
    invoking the component's handler in this process."""

    def __init__(self, components: Iterable[ProvisionedComponent], project_root: Path) -> None:
        self._components = list(components)
        self._root = project_root
        self.loops: dict[str, EventSourceMappingLoop] = {}

    def start(self) -> None:
        for component in self._components:
            self.replace(component)

    def replace(self, component: ProvisionedComponent) -> None:
        self.remove(component.spec.name)
        handler = load_component(component.spec.entrypoint, self._root)
        handler.configure(component_config(component))
        loop = EventSourceMappingLoop.for_component(component, handler)
        loop.start()
        self.loops[component.spec.name] = loop

    def remove(self, name: str) -> None:
        loop = self.loops.pop(name, None)
        if loop is not None:
            loop.stop()

    def exited(self) -> dict[str, int]:
        return {}

    def stop(self) -> None:
        for name in list(self.loops):
            self.remove(name)


RunnerFactory = Callable[[list[ProvisionedComponent]], ReloadableRunner]


class ComponentRunners:
    """The runners of one pipeline, by run mode: `start`, `replace`, `remove`, `stop`."""

    def __init__(
        self,
        task_runner: RunnerFactory,
        in_process: bool,
        endpoint: AwsEndpoint,
        session: boto3.session.Session,
        project_root: Path,
    ) -> None:
        self._task_runner = task_runner
        self._in_process = in_process
        self._endpoint = endpoint
        self._session = session
        self._root = project_root
        self._by_mode: dict[RunMode, ReloadableRunner] = {}
        self._mode_of: dict[str, RunMode] = {}

    def start(self, components: Iterable[ProvisionedComponent]) -> None:
        by_mode: dict[RunMode, list[ProvisionedComponent]] = {}
        for component in components:
            by_mode.setdefault(component.spec.mode, []).append(component)
        for mode, chosen in by_mode.items():
            self._start_runner(mode, chosen)

    def _start_runner(self, mode: RunMode, components: list[ProvisionedComponent]) -> None:
        runner = self._new_runner(mode, components)
        runner.start()
        self._by_mode[mode] = runner
        self._mode_of.update({c.spec.name: mode for c in components})

    def _new_runner(
        self, mode: RunMode, components: list[ProvisionedComponent]
    ) -> ReloadableRunner:
        if mode is RunMode.LAMBDA:
            if self._in_process:
                return InProcessLambdas(components, self._root)
            # Packaging finds the component's code by import: from the project, as it runs.
            if str(self._root) not in sys.path:
                sys.path.insert(0, str(self._root))
            return LambdaRunner(components, self._endpoint, self._session)
        return self._task_runner(components)

    def replace(self, component: ProvisionedComponent, modules: Iterable[str] = ()) -> None:
        """Run `component` with its current code and environment (a new component too).
        `modules` are those an in-process runner must import again."""
        name, mode = component.spec.name, component.spec.mode
        if self._mode_of.get(name, mode) is not mode:  # its mode changed in the spec
            self.remove(name)
        runner = self._by_mode.get(mode)
        if runner is None:
            self._start_runner(mode, [component])
            return
        if isinstance(runner, InProcessRunner):
            runner.replace(component, modules)
        else:
            runner.replace(component)
        self._mode_of[name] = mode

    def remove(self, name: str) -> None:
        mode = self._mode_of.pop(name, None)
        if mode is not None:
            self._by_mode[mode].remove(name)

    def exited(self) -> dict[str, int]:
        """Components that ended on their own (crashed), with their exit codes."""
        codes: dict[str, int] = {}
        for runner in self._by_mode.values():
            codes.update(runner.exited())
        return {n: c for n, c in codes.items() if n in self._mode_of}

    def errors(self) -> dict[str, BaseException]:
        """Errors that ended in-process components (threads have no output to show)."""
        found: dict[str, BaseException] = {}
        for runner in self._by_mode.values():
            if isinstance(runner, InProcessRunner):
                found.update(runner.errors)
        return found

    def stop(self) -> None:
        for runner in reversed(list(self._by_mode.values())):
            runner.stop()
        self._by_mode.clear()
        self._mode_of.clear()


def process_runner(endpoint: AwsEndpoint, sink: LineSink, root: Path) -> RunnerFactory:
    return lambda components: ProcessRunner(components, endpoint, sink, root)


def container_runner(endpoint: AwsEndpoint, sink: LineSink, root: Path) -> RunnerFactory:
    """Containers of the Pylon base image (the docker extra, imported when used)."""

    def create(components: list[ProvisionedComponent]) -> ReloadableRunner:
        from harness.run.containers import ContainerRunner

        return ContainerRunner(components, endpoint, sink, root)

    return create


def in_process_runner(root: Path) -> RunnerFactory:
    return lambda components: InProcessRunner(components, root)

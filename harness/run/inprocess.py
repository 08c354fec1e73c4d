"""Components as threads of the test process: the fastest way to run a pipeline in tests.

Each component object is configured with its provisioned PYLON_CONFIG and driven by its
own worker loop and StopSignal, so stopping never depends on POSIX signals (which only
the main thread may handle).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.lifecycle import Running
from harness.provision import ProvisionedComponent
from harness.run.loader import load_component
from pylon.config import ComponentConfig, ComponentKind
from pylon.leases import LeaseKeeper
from pylon.logs import Liveness, heartbeat
from pylon.shutdown import StopSignal
from pylon.source_loop import SourceLoop
from pylon.worker import QueueWorker

logger = logging.getLogger(__name__)


def component_config(component: ProvisionedComponent) -> ComponentConfig:
    """The ComponentConfig a deployed process would resolve from its environment."""
    env = component.spec.env
    version = ".".join(env.get(k, "0") for k in ("MAJOR", "MINOR", "PATCH"))
    return ComponentConfig(
        kind=component.spec.kind,
        entries=dict(component.pylon_config),
        artifact_name=env.get("IMAGE_NAME", component.spec.name),
        artifact_version=version,
    )


class InProcessRunner(Running):
    """Runs components in daemon threads until `stop()`."""

    def __init__(
        self, components: Sequence[ProvisionedComponent], project_root: Path | None = None
    ) -> None:
        self._components = list(components)
        self._project_root = project_root
        self._stops: dict[str, StopSignal] = {}
        self._threads: dict[str, threading.Thread] = {}
        self.errors: dict[str, BaseException] = {}

    def start(self) -> None:
        for component in self._components:
            self.start_component(component)

    def start_component(self, component: ProvisionedComponent) -> None:
        """A thread running `component` (an entrypoint that cannot load raises here)."""
        name = component.spec.name
        self._stops[name] = StopSignal()
        target = self._loop_for(component)
        self.errors.pop(name, None)
        thread = threading.Thread(target=self._guard, args=(name, target), daemon=True)
        thread.name = f"pylon-{name}"
        thread.start()
        self._threads[name] = thread

    def replace(self, component: ProvisionedComponent, modules: Iterable[str] = ()) -> None:
        """Stop the component's thread (it finishes the message in hand), forget its
        `modules` so they are imported again from the saved files, start it anew. Code
        that fails to load (a syntax error mid-edit) is reported through .errors and
        the log, as a crash is."""
        name = component.spec.name
        self.remove(name)
        for module in modules:
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
        try:
            self.start_component(component)
        except Exception as error:  # shown by whoever replaces (the reloader: once)
            self.errors[name] = error

    def remove(self, name: str, timeout_s: float = 30) -> None:
        stop = self._stops.pop(name, None)
        if stop is not None:
            stop.request()
        thread = self._threads.pop(name, None)
        if thread is not None:
            thread.join(timeout_s)

    def exited(self) -> dict[str, int]:
        """Components that stopped on their own (an error, reported in .errors): 1 each."""
        return {name: 1 for name in self.errors if name in self._stops}

    def _loop_for(self, component: ProvisionedComponent):  # type: ignore[no-untyped-def]
        runtime = load_component(component.spec.entrypoint, self._project_root).configure(
            component_config(component)
        )
        liveness = Liveness.for_config(runtime.config)
        stop = self._stops[component.spec.name]
        if component.spec.kind is ComponentKind.SOURCE:
            return _started(lambda: SourceLoop(runtime.path).run_forever(stop, liveness))
        assert runtime.queue is not None
        leases = LeaseKeeper.for_config(
            runtime.queue, runtime.path.config, on_hung_task=self._hung(component.spec.name)
        )
        worker = QueueWorker(runtime.path, runtime.queue, leases)
        return _started(lambda: worker.run_forever(stop, liveness))

    def _hung(self, name: str) -> Callable[[], None]:
        """In a thread, a hung task cannot be ended with its process (this one runs the
        tests): its messages were handed back; the component stays stuck until the task
        returns. Reported through .errors and the log."""

        def report() -> None:
            self.errors[name] = HarnessError(
                f"component {name}: a task passed TASK_TIMEOUT_SECONDS and cannot be stopped "
                "in a thread; run the pipeline with processes to have it replaced"
            )
            logger.error("%s", self.errors[name])

        return report

    def _guard(self, name: str, target) -> None:  # type: ignore[no-untyped-def]
        try:
            target()
        except BaseException as error:  # surfaced through .errors and the log, never lost
            self.errors[name] = error
            logger.exception("component %s stopped with an error", name)

    def stop(self, timeout_s: float = 30) -> None:
        for stop in self._stops.values():
            stop.request()
        for thread in self._threads.values():
            thread.join(timeout_s)
        self._threads.clear()
        self._stops.clear()


def _started(loop: Callable[[], None]) -> Callable[[], None]:
    """A thread stands for a `runForever` start: one start heartbeat, as a process logs."""

    def run() -> None:
        heartbeat("run_forever")
        loop()

    return run

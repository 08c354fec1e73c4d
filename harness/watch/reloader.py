"""`pylon up --watch`: a saved component restarts alone; a saved spec is applied in place.

    reloader = Reloader(pipeline, spec_path, quiet_sink, print)
    reloader.run(stop)            # in the thread that started the pipeline (see below)

- **Code**: each component is its entrypoint module and the project modules it imports
  (`sources`); saving one of those files restarts exactly the components made of it, by
  their runner's `replace` (the new process starts before the old one finishes its
  message in hand; in-process, the modules are imported again; Lambda, the function's
  code is updated). The code version (a hash of those files) shows in the status line.
- **Spec**: the saved spec is diffed against the running one (`spec_changes`), printed,
  and provisioned over it: new components start, changed subscriptions, filters, queue
  settings apply in place, components whose environment changed restart. Removed
  components stop; their resources go only with `--prune`.
- **Crashes**: a component that exits (fails to import, crashes at start) is retried
  with backoff, and at once on the next save (`health`); its traceback is shown once.

Files are watched with `watchfiles` (the OS's file events, no polling of our own). The
loop must run in the thread that started the pipeline's processes, as supervision
does: a child's parent-death signal is tied to the thread that started it.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from harness.pipeline.local_pipeline import LocalPipeline
from harness.provision import ProvisionedComponent, prune
from harness.spec import PipelineSpec, SpecError, load_spec
from harness.watch.health import STABLE_SECONDS, QuietRetries, State, Watched, backoff_seconds
from harness.watch.sources import code_version, source_files
from harness.watch.spec_changes import SpecChange, diff_specs

Say = Callable[[str], None]

# How long after the first event of a save the batch is taken (editors write in steps).
DEBOUNCE_MS = 50
_TICK_MS = 200


class Reloader:
    def __init__(
        self,
        pipeline: LocalPipeline,
        spec_path: Path,
        output: QuietRetries,
        say: Say,
        *,
        prune: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if pipeline.runners is None:
            raise ValueError("start the pipeline, with a runner, before watching it")
        self.pipeline = pipeline
        self.spec_path = spec_path.resolve()
        self.root = pipeline.project_root.resolve()
        self.output = output
        self.say = say
        self.prune = prune
        self.clock = clock
        self.watched: dict[str, Watched] = {}
        self._errors_shown: dict[str, str] = {}
        # Set once files are being watched: a save before that would go unseen.
        self.ready = threading.Event()
        for component in pipeline.resources.components.values():
            self.watched[component.spec.name] = self._watch(component, State.RUNNING)
        self.say(self.status())

    # ------------------------------------------------------------ watching

    def _watch(self, component: ProvisionedComponent, state: State) -> Watched:
        files = source_files(component.spec.entrypoint, self.root)
        return Watched(
            component.spec.name, files, code_version(files, self.root), state, self.clock()
        )

    def paths(self) -> set[Path]:
        """The directories to watch: every component's source folders, and the spec's."""
        folders = {path.parent for w in self.watched.values() for path in w.files}
        return {*folders, self.spec_path.parent}

    def _wanted(self, change: watchfiles.Change, path: str) -> bool:
        return path.endswith(".py") or Path(path) == self.spec_path

    def run(self, stop: threading.Event) -> None:
        """Watch until `stop` is set; each save is handled as one batch of changes."""
        while not stop.is_set():
            paths = self.paths()
            for changes in watchfiles.watch(
                *paths, watch_filter=self._wanted, debounce=DEBOUNCE_MS, step=10,
                stop_event=stop, rust_timeout=_TICK_MS, yield_on_timeout=True,
            ):  # fmt: skip
                self.ready.set()
                self.handle({Path(path).resolve() for _, path in changes})
                self.tick()
                if self.paths() != paths:  # a new component brought new folders
                    break

    # ------------------------------------------------------------ reacting

    def handle(self, changed: set[Path]) -> None:
        """React to saved files: the spec first (it may add components), then code."""
        if not changed:
            return
        if self.spec_path in changed:
            self.apply_spec()
        for watched in list(self.watched.values()):
            if watched.files & changed:
                self.restart(watched.name, retry=False)

    def restart(self, name: str, *, retry: bool) -> None:
        component = self.pipeline.resources.components[name]
        previous = self.watched.get(name)
        watched = self._watch(component, State.RESTARTING)
        if previous is not None and retry:
            watched.crashes = previous.crashes
        if previous is not None and not retry and previous.version == watched.version:
            watched.crashes = 0  # saved unchanged: a fresh start, not a retry
        self.watched[name] = watched
        assert self.pipeline.runners is not None
        self.pipeline.runners.replace(component, _module_names(watched.files, self.root))
        if not retry:
            self.say(self.status())

    def tick(self) -> None:
        """Crashes, due retries and restarts that settled, checked a few times a second."""
        assert self.pipeline.runners is not None
        now = self.clock()
        exited = self.pipeline.runners.exited()
        for name, watched in self.watched.items():
            if name in exited and watched.state is not State.CRASHED:
                self._crashed(watched, exited[name], now)
            elif watched.state is State.CRASHED and watched.retry_at and now >= watched.retry_at:
                self.restart(name, retry=True)
            elif watched.state is State.RESTARTING and now - watched.started_at >= STABLE_SECONDS:
                watched.state, watched.crashes = State.RUNNING, 0
                self.output.stable(name)
                self.say(self.status())

    def _crashed(self, watched: Watched, code: int, now: float) -> None:
        shown = self.output.crashed(watched.name)
        self._show_in_process_error(watched.name)
        watched.state = State.CRASHED
        watched.crashes += 1
        watched.retry_at = now + backoff_seconds(watched.crashes)
        if shown or watched.crashes == 1:
            self.say(f"{watched.name} exited with code {code}; " + self.status())

    def _show_in_process_error(self, name: str) -> None:
        """A thread's error has no output of its own to show: show its traceback, once."""
        assert self.pipeline.runners is not None
        error = self.pipeline.runners.errors().get(name)
        if error is None:
            return
        text = "".join(traceback.format_exception(error))
        if self._errors_shown.get(name) != text:
            self._errors_shown[name] = text
            for line in text.rstrip().splitlines():
                self.output(name, line)

    def status(self) -> str:
        now = self.clock()
        return "watch | " + " · ".join(w.describe(now) for w in self.watched.values())

    # ------------------------------------------------------------ the spec

    def apply_spec(self) -> SpecChange | None:
        """Diff the saved spec against the running one and apply it; a spec that does not
        load is reported and changes nothing."""
        try:
            saved = load_spec(self.spec_path)
        except SpecError as exc:
            self.say(f"spec not applied: {exc}")
            return None
        prepared = self.pipeline.prepared(saved.with_prefix(self.pipeline.prefix))
        if _services(prepared) != _services(self.pipeline.spec):
            self.say(
                "services changed in the spec: they start with `pylon up`; restart it to apply"
            )
        change = diff_specs(self.pipeline.spec, prepared)
        if change.empty:
            self.say("spec saved: nothing to apply")
            return change
        self._apply(prepared, change)
        return change

    def _apply(self, spec: PipelineSpec, change: SpecChange) -> None:
        old = self.pipeline.resources
        new = self.pipeline.reprovision(spec, prune=self.prune)
        assert self.pipeline.runners is not None
        for name in change.removed:
            self.pipeline.runners.remove(name)
            self.watched.pop(name, None)
        lines = change.lines(self.prune)
        if self.prune:
            lines += prune(old, new)
        self.say("spec applied:\n  " + "\n  ".join(lines))
        for name in [*change.added, *change.restart]:
            self.restart(name, retry=False)


def _services(spec: PipelineSpec) -> object:
    return {name: (s.command, dict(s.env), s.ready_url) for name, s in spec.services.items()}


def _module_names(files: Iterable[Path], root: Path) -> list[str]:
    """Dotted names of the project files (what an in-process runner imports again)."""
    names = []
    for path in files:
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names

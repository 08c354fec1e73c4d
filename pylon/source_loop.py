"""Running a source (no input queue): one run now, or one run every interval until stopped."""

from __future__ import annotations

from pylon.logs import Liveness
from pylon.processing import MessagePath
from pylon.shutdown import StopSignal
from pylon.worker import log_failure


class SourceLoop:
    def __init__(self, path: MessagePath) -> None:
        self._path = path

    def run_once(self) -> str | None:
        """Run the source once; return the ingestion id of the run."""
        execution = self._path.run(None)
        return execution.ingestion_step.ingestionId if execution.ingestion_step else None

    def run_forever(self, stop: StopSignal, liveness: Liveness | None = None) -> None:
        """A failed run is logged and retried at the next interval, never fatal."""
        interval = self._path.config.source_interval_seconds
        liveness = liveness or Liveness(0)
        while not stop.requested:
            try:
                self.run_once()
            except Exception as error:
                log_failure(None, f"{self._path.task_name} source run", error)
            liveness.poll(1)
            stop.wait(interval)

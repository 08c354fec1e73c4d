"""Benchmark subprocesses that report `ready`, start on a line from us, and stop on SIGTERM.

Each runs in its own process group and dies with the benchmark (the harness's
parent-death hook), so an interrupted benchmark leaves no consumer behind to eat the
next run's messages.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from bench.errors import BenchmarkError
from harness.processes.groups import parent_death_hook, stop_group

READY_LINE = "ready"
_STOP_GRACE_S = 10.0
_LOG_TAIL_CHARS = 3000

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def module_environment(base: Mapping[str, str]) -> dict[str, str]:
    """`base` plus what `python -m bench.…` needs from any working directory."""
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), base.get("PYTHONPATH")]))
    return {**base, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


class BenchProcess:
    """`python -m <module> <args>` with stdin/stdout piped and stderr in `log_path`.

    The working directory is the log's directory, so a developer's `.env` in the project
    root is not picked up by a component under measurement.
    """

    def __init__(
        self, module: str, args: Sequence[str], env: Mapping[str, str], log_path: Path
    ) -> None:
        self.log_path = log_path
        self.argv = ["-m", module, *args]
        self._terminated = False
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.argv],
                env=module_environment(env),
                cwd=log_path.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                preexec_fn=parent_death_hook(),
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout_s: float) -> None:
        """Block until the child printed `ready`; raise with its log if it died or hung."""
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            readable, _, _ = select.select([stdout], [], [], 0.1)
            if readable:
                line = stdout.readline().decode(errors="replace").strip()
                if line == READY_LINE:
                    return
                if not line and self.process.poll() is not None:
                    break
        raise BenchmarkError(
            f"benchmark process {self.describe()} did not get ready within {timeout_s:.0f} s; "
            f"its log ends with:\n{self.log_tail()}"
        )

    def go(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"go\n")
        stdin.flush()

    def cpu_seconds(self) -> float:
        """User plus system CPU time the child has used so far."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Ask the child to stop (it finishes what it holds); `stop()` waits for it.

        One SIGTERM only: a second one could land after the child restored the default
        handler on its way out and turn a clean exit into "killed by SIGTERM".
        """
        if self._terminated:
            return
        self._terminated = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> int:
        """Stop the child and return its exit code; SIGKILL if it takes too long."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self.terminate()
        try:
            return self.process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            return stop_group(self.process, 0)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"

    def log_tail(self) -> str:
        return self.log_text()[-_LOG_TAIL_CHARS:] or "(log empty)"

    def describe(self) -> str:
        return " ".join(self.argv)


def stop_all(processes: Sequence[BenchProcess]) -> list[int]:
    """SIGTERM every process at once (they stop in parallel), then collect exit codes."""
    for process in processes:
        process.terminate()
    return [process.stop() for process in processes]

"""Child server processes that cannot outlive the process that started them.

An emulator left behind by a crashed or killed test run keeps its port and memory and
confuses the next run. So each child gets its own process group (stopped as a whole,
including any Lambda workers it forks), and on Linux a parent-death signal.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def parent_death_hook() -> Callable[[], None] | None:
    """A preexec_fn making the child receive SIGTERM when its parent dies (Linux only).

    libc is loaded here, before the fork, because loading a library in the forked
    child of a threaded process can deadlock. The signal fires when the *thread* that
    spawned the child exits, so spawn from a long-lived thread (pytest's main one).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent_pid = os.getpid()

    def die_with_parent() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between fork and prctl: then nobody would signal us.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return die_with_parent


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session, stdout and stderr appended to `log_path`.

    Raises OSError when the executable cannot be run at all.
    """
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Only a prctl and a getppid run between fork and exec: safe with threads.
            preexec_fn=parent_death_hook(),
        )


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    # ProcessLookupError: the whole group is already gone, nothing left to signal.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def stop_group(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> int:
    """SIGTERM the child's process group, SIGKILL it after `grace_s`; return the exit code.

    The final SIGKILL goes to the group even when the leader exited in time, so that
    grandchildren (Lambda workers) which ignored SIGTERM do not survive it.
    """
    request_stop(process)
    return reap_group(process, grace_s)


def request_stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group (start_new_session made the child its leader)."""
    _signal_group(process.pid, signal.SIGTERM)


def reap_group(process: subprocess.Popen[bytes], grace_s: float) -> int:
    """Wait up to `grace_s` for a child already asked to stop, then SIGKILL its group."""
    with contextlib.suppress(subprocess.TimeoutExpired):  # escalated to SIGKILL below
        process.wait(timeout=grace_s)
    _signal_group(process.pid, signal.SIGKILL)
    return process.wait()

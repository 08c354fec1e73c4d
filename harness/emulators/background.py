"""A MiniStack left running in the background by `pylon emulator start`.

Unlike `MiniStack` (which dies with the process that started it, as tests want), this
one outlives the CLI; its pid, port and scratch directory are kept in a state file so
`pylon emulator status|stop` and the other commands can find it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.emulators.admin import health_error, wait_until_healthy
from harness.emulators.isolated_env import default_cache_dir, isolated_python_env
from harness.emulators.ministack import MINISTACK_VERSION, ministack_tool
from harness.errors import EmulatorError
from harness.processes.ports import LOOPBACK_HOST, free_loopback_port


@dataclass(frozen=True)
class BackgroundEmulator:
    pid: int
    endpoint_url: str
    workdir: str
    version: str = MINISTACK_VERSION


def state_file() -> Path:
    return default_cache_dir() / "background-emulator.json"


def running() -> BackgroundEmulator | None:
    """The recorded background emulator if its process is still alive, else None."""
    path = state_file()
    if not path.is_file():
        return None
    try:
        state = BackgroundEmulator(**json.loads(path.read_text()))
        os.kill(state.pid, 0)
    except (ValueError, TypeError, ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return state


def start(port: int | None = None, timeout_s: float = 30.0) -> BackgroundEmulator:
    """Start one (or return the one already running)."""
    existing = running()
    if existing is not None:
        return existing
    executable = ministack_tool().install() / "bin" / "ministack"
    port = port or free_loopback_port()
    workdir = Path(tempfile.mkdtemp(prefix="pylon-ministack-bg-"))
    (workdir / "tmp").mkdir()
    env = {k: v for k, v in isolated_python_env(os.environ).items() if not k.startswith("AWS_")}
    env.update(TMPDIR=str(workdir / "tmp"), S3_DATA_DIR=str(workdir / "s3"), LOG_LEVEL="WARNING")
    env.update(BIND_HOST=LOOPBACK_HOST, GATEWAY_PORT=str(port))
    with (workdir / "ministack.log").open("ab") as log:
        process = subprocess.Popen(
            [str(executable)],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    state = BackgroundEmulator(process.pid, f"http://{LOOPBACK_HOST}:{port}", str(workdir))
    try:
        wait_until_healthy(
            state.endpoint_url, timeout_s, keep_waiting=lambda: process.poll() is None
        )
    except EmulatorError:
        _terminate(process.pid)
        raise
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text(json.dumps(asdict(state)))
    return state


def stop() -> BackgroundEmulator | None:
    """Stop the background emulator; return what was stopped (None if nothing ran)."""
    state = running()
    if state is None:
        return None
    _terminate(state.pid)
    shutil.rmtree(state.workdir, ignore_errors=True)
    state_file().unlink(missing_ok=True)
    return state


def healthy(state: BackgroundEmulator) -> bool:
    return health_error(state.endpoint_url) is None


def _terminate(pid: int, grace_s: float = 5.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)

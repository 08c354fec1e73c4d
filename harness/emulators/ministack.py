"""MiniStack, the default embedded emulator: a pinned install run as a loopback subprocess.

    with MiniStack() as emulator:
        sqs = boto3.client("sqs", endpoint_url=emulator.endpoint_url)

Command line (`make dev` runs the first):

    python -m harness.emulators.ministack install
    python -m harness.emulators.ministack start [--port 4566]
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from harness.emulators.admin import reset_state, wait_until_healthy
from harness.emulators.base import Emulator
from harness.emulators.isolated_env import IsolatedTool, default_cache_dir, isolated_python_env
from harness.errors import EmulatorError
from harness.processes.groups import spawn, stop_group
from harness.processes.ports import LOOPBACK_HOST, free_loopback_port
from harness.provision.provisioner import PROVISIONED_SERVICES
from pylon.aws.clients import preload_models

# Pinned exactly: MiniStack releases often and its behaviour is what our emulator-gap
# tests (filter policies, Binary attributes, SQS event source mappings) are written
# against; it also pins botocore exactly, hence its own virtualenv.
MINISTACK_VERSION = "1.5.33"

_LOG_TAIL_LINES = 40
_STOP_GRACE_S = 5.0

logger = logging.getLogger(__name__)


def ministack_tool(cache_dir: Path | None = None) -> IsolatedTool:
    """The pinned MiniStack install, in `cache_dir` or the default cache."""
    return IsolatedTool("ministack", MINISTACK_VERSION, cache_dir or default_cache_dir())


def install(cache_dir: Path | None = None) -> Path:
    """Install the pinned MiniStack if needed (fast when done); return its virtualenv."""
    return ministack_tool(cache_dir).install()


def _inherited_env() -> dict[str, str]:
    """The environment MiniStack inherits: ours, minus Python and AWS settings.

    Real AWS credentials or endpoints have no business inside the emulator (its Lambda
    workers would see them), and PYTHONPATH would mix the project's botocore into it.
    """
    return {
        name: value
        for name, value in isolated_python_env(os.environ).items()
        if not name.startswith("AWS_")
    }


def _log_tail(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(log {log_path} unreadable: {exc})"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(log empty)"


class MiniStack(Emulator):
    """A MiniStack subprocess on a free loopback port, with its own temporary directory.

    `start()` installs the pinned version on first use. All state (queues, S3 objects,
    logs) lives in a temporary directory removed by `stop()`; `reset()` wipes state
    between tests in milliseconds without a restart.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        region: str = "us-east-1",
        log_level: str = "WARNING",
        extra_env: Mapping[str, str] | None = None,
        start_timeout_s: float = 30.0,
        cache_dir: Path | None = None,
        executable: Path | None = None,
    ) -> None:
        """Configure, without starting anything.

        `extra_env` is passed to MiniStack (e.g. `{"AUTH": "true"}` to enforce IAM
        policies); it may override LOG_LEVEL, TMPDIR..., but not the loopback bind
        address or the port. `executable` runs another `ministack` script instead of
        the pinned one from the cache.
        """
        super().__init__(region)
        self._port = port
        self._log_level = log_level
        self._extra_env = dict(extra_env or {})
        self._start_timeout_s = start_timeout_s
        self._cache_dir = cache_dir
        self._executable = executable
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._url: str | None = None

    def ensure_installed(self) -> Path:
        """The `ministack` script to run, installing the pinned version if needed."""
        if self._executable is not None:
            return self._executable
        return ministack_tool(self._cache_dir).install() / "bin" / "ministack"

    @property
    def log_path(self) -> Path | None:
        """MiniStack's combined stdout/stderr while it runs; None when stopped."""
        return None if self._workdir is None else self._workdir / "ministack.log"

    @property
    def pid(self) -> int | None:
        """Process id (and process group id) of the running emulator."""
        return None if self._process is None else self._process.pid

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise EmulatorError(
                "MiniStack is not running, so it has no endpoint; call start() first "
                "(or use `with MiniStack() as emulator:`)"
            )
        return self._url

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Launch MiniStack and wait until it is healthy; a no-op when already running."""
        if self.is_running():
            return
        executable = self.ensure_installed()
        # Whoever starts an emulator talks to it next: the client models are parsed on
        # this side while MiniStack boots on the other.
        preload_models(PROVISIONED_SERVICES)
        port = self._port or free_loopback_port()
        self._url = f"http://{LOOPBACK_HOST}:{port}"
        self._workdir = Path(tempfile.mkdtemp(prefix="pylon-ministack-"))
        atexit.register(self.stop)
        try:
            self._process = self._launch(executable, port, self._workdir)
            wait_until_healthy(self._url, self._start_timeout_s, keep_waiting=self.is_running)
        except EmulatorError as exc:
            reason = self._start_failure(exc)
            self.stop()
            raise reason from exc
        except BaseException:
            self.stop()  # e.g. Ctrl-C while waiting: leave nothing running
            raise

    def _launch(self, executable: Path, port: int, workdir: Path) -> subprocess.Popen[bytes]:
        (workdir / "tmp").mkdir(exist_ok=True)
        defaults = {
            "LOG_LEVEL": self._log_level,
            "MINISTACK_REGION": self.region,
            # MiniStack writes its pid file and Lambda scratch space under TMPDIR.
            "TMPDIR": str(workdir / "tmp"),
            "S3_DATA_DIR": str(workdir / "s3"),
            # Where PERSIST_STATE=1 (in extra_env) saves state on the way down.
            "STATE_DIR": str(workdir / "state"),
        }
        # Applied last, beyond extra_env's reach: the emulator never listens off-machine.
        listen = {"BIND_HOST": LOOPBACK_HOST, "GATEWAY_PORT": str(port)}
        try:
            return spawn(
                [str(executable)],
                env=_inherited_env() | defaults | self._extra_env | listen,
                cwd=workdir,
                log_path=workdir / "ministack.log",
            )
        except OSError as exc:
            raise EmulatorError(
                f"cannot run MiniStack executable {executable}: {exc}; reinstall it with "
                "`python -m harness.emulators.ministack install`"
            ) from exc

    def restart(self) -> None:
        """Stop gracefully, then start again on the same port with the same scratch directory.

        Clients keep their endpoint. With `PERSIST_STATE=1` in `extra_env`, MiniStack saves
        its state on the way down and loads it on the way up, so queues with their
        messages (in flight ones too), topics, subscriptions and policies survive; without
        it the emulator comes back empty, as after a fresh start.
        """
        process, workdir, url = self._process, self._workdir, self._url
        if process is None or workdir is None or url is None:
            raise EmulatorError("MiniStack is not running, so it cannot be restarted; start() it")
        stop_group(process, _STOP_GRACE_S)
        port = int(url.rsplit(":", 1)[1])
        try:
            self._process = self._launch(self.ensure_installed(), port, workdir)
            wait_until_healthy(url, self._start_timeout_s, keep_waiting=self.is_running)
        except EmulatorError as exc:
            reason = self._start_failure(exc)
            self.stop()
            raise reason from exc

    def _start_failure(self, exc: EmulatorError) -> EmulatorError:
        """The error to raise for a failed start, with the exit code and log tail."""
        if self._process is None:
            return exc
        code = self._process.poll()
        state = "still running" if code is None else f"exited with code {code}"
        log_path = self.log_path
        tail = "(no log)" if log_path is None else _log_tail(log_path)
        return EmulatorError(
            f"MiniStack {MINISTACK_VERSION} did not start on {self._url} ({state}): {exc}\n"
            f"--- last lines of {log_path} ---\n{tail}"
        )

    def stop(self) -> None:
        """Stop the whole process group and delete the temporary directory; idempotent."""
        atexit.unregister(self.stop)
        process, workdir = self._process, self._workdir
        self._process, self._workdir, self._url = None, None, None
        if process is not None:
            stop_group(process, _STOP_GRACE_S)
        if workdir is not None:
            _remove_workdir(workdir)

    def reset(self) -> None:
        """Wipe every service's state via `POST /_ministack/reset` (milliseconds)."""
        if not reset_state(self.endpoint_url):
            raise EmulatorError(
                f"MiniStack at {self.endpoint_url} refused POST /_ministack/reset; "
                f"is MiniStack {MINISTACK_VERSION} really what listens there?"
            )


def _remove_workdir(workdir: Path) -> None:
    try:
        shutil.rmtree(workdir)
    except OSError as exc:
        # A leftover file in /tmp is not worth failing a test run over, but worth a line.
        logger.warning("could not remove %s after stopping MiniStack: %s", workdir, exc)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn `kill`/`docker stop` into a normal exit, so the emulator and its temporary
    # directory are cleaned up as on Ctrl-C (the default SIGTERM skips all cleanup).
    raise SystemExit(0)


def _run_foreground(port: int | None, log_level: str) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with MiniStack(port=port, log_level=log_level) as emulator:
        print(f"MiniStack {MINISTACK_VERSION} running at {emulator.endpoint_url}")
        for name, value in emulator.endpoint.env().items():
            print(f"export {name}={value}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while emulator.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        log_path = emulator.log_path
        tail = "(no log)" if log_path is None else _log_tail(log_path)
    print(f"MiniStack exited unexpectedly; its log ended with:\n{tail}", file=sys.stderr)
    return 1


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m harness.emulators.ministack",
        description=f"Install or run the pinned MiniStack {MINISTACK_VERSION}.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install into the cache (idempotent)")
    start = commands.add_parser("start", help="run in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, default=None, help="default: a free port")
    start.add_argument("--log-level", default="INFO", help="MiniStack LOG_LEVEL")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m harness.emulators.ministack`."""
    args = _parse_args(argv)
    try:
        if args.command == "install":
            print(f"MiniStack {MINISTACK_VERSION} installed in {install()}")
            return 0
        return _run_foreground(args.port, args.log_level)
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""moto in server mode, as a subprocess: a fourth reference backend for the conformance
suite (and a pure-Python fake where one is wanted).

    with MotoServer() as emulator:
        boto3.client("sqs", endpoint_url=emulator.endpoint_url)

moto degrades with queue depth (about 20 messages/s with 1,000 queued) and runs Lambda
functions only through Docker images it pulls itself, so it is not a default anywhere.
It needs the `conformance` extra (`moto[server]`), installed by `make dev`.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from harness.emulators.admin import reset_state, wait_until_healthy
from harness.emulators.base import Emulator
from harness.errors import EmulatorError
from harness.processes.groups import spawn, stop_group
from harness.processes.ports import LOOPBACK_HOST, free_loopback_port

# moto's own dashboard API: its data answers once the server serves, its reset wipes all.
HEALTH_PATH = "/moto-api/data.json"
RESET_PATH = "/moto-api/reset"
CONFIG_PATH = "/moto-api/config"
# The account every other emulator uses (moto's own default is 123456789012), so ARNs in
# specs, policies and roles mean the same on every backend.
MOTO_ENV = {"MOTO_ACCOUNT_ID": "000000000000", "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
_STOP_GRACE_S = 5.0
_LOG_TAIL_LINES = 40


def _never_use_docker(endpoint_url: str) -> None:
    """Turn off moto's Docker-backed Lambda (and Batch): they pull images from a registry.

    Invocations then get moto's canned answer instead of running the code (a divergence
    the conformance suite records).
    """
    body = json.dumps({"lambda": {"use_docker": False}, "batch": {"use_docker": False}})
    request = urllib.request.Request(
        endpoint_url + CONFIG_PATH, data=body.encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10):
        pass


class MotoServer(Emulator):
    """`python -m moto.server` on a free loopback port."""

    def __init__(self, region: str = "us-east-1", start_timeout_s: float = 60.0) -> None:
        super().__init__(region)
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise EmulatorError("moto is not running, so it has no endpoint; call start() first")
        return self._url

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.is_running():
            return
        port = free_loopback_port()
        self._url = f"http://{LOOPBACK_HOST}:{port}"
        self._workdir = Path(tempfile.mkdtemp(prefix="pylon-moto-"))
        atexit.register(self.stop)
        try:
            self._process = spawn(
                [sys.executable, "-m", "moto.server", "-H", LOOPBACK_HOST, "-p", str(port)],
                env={**os.environ, **MOTO_ENV},
                cwd=self._workdir,
                log_path=self._workdir / "moto.log",
            )
            wait_until_healthy(
                self._url, self._start_timeout_s, keep_waiting=self.is_running, path=HEALTH_PATH
            )
            _never_use_docker(self._url)
        except EmulatorError as exc:
            tail = self._log_tail()
            self.stop()
            raise EmulatorError(
                f"moto did not start on {self._url}: {exc}; is the `conformance` extra "
                f"(moto[server]) installed?\n--- last lines of its log ---\n{tail}"
            ) from exc
        except BaseException:
            self.stop()
            raise

    def _log_tail(self) -> str:
        if self._workdir is None:
            return "(no log)"
        log = self._workdir / "moto.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(log empty)"

    def stop(self) -> None:
        atexit.unregister(self.stop)
        process, workdir = self._process, self._workdir
        self._process, self._workdir, self._url = None, None, None
        if process is not None:
            stop_group(process, _STOP_GRACE_S)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def reset(self) -> None:
        if not reset_state(self.endpoint_url, path=RESET_PATH):
            raise EmulatorError(f"moto at {self.endpoint_url} refused POST {RESET_PATH}")
        _never_use_docker(self.endpoint_url)  # a reset restores moto's defaults

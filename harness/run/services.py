"""Helper processes from the spec's `services:` (data servers, mock APIs).

Each gets a free loopback port, substituted for `{port}` in its command, env and
`ready_url`; components refer to it as `{services.NAME.port}` in their config, which
`harness.spec.overrides.with_service_ports` fills in before provisioning.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from harness.errors import HarnessError
from harness.lifecycle import Running
from harness.processes.groups import stop_group
from harness.processes.output import LineSink, pump_lines
from harness.processes.ports import free_loopback_port
from harness.run.processes import start_piped
from harness.spec import ServiceSpec


class ServiceError(HarnessError):
    """A spec service failed to start or never became ready."""


class ServiceRunner(Running):
    """Starts every service, waits until each is ready, stops them all on exit."""

    def __init__(self, services: Mapping[str, ServiceSpec], sink: LineSink, cwd: Path) -> None:
        self._services = services
        self._sink = sink
        self._cwd = cwd
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def start(self) -> dict[str, int]:
        for name, service in self._services.items():
            self._start_one(name, service)
        return self.ports

    def _start_one(self, name: str, service: ServiceSpec) -> None:
        port = free_loopback_port()
        self.ports[name] = port
        command = [_fill_port(part, port) for part in service.command]
        if command[0] == "python":
            command[0] = sys.executable  # the harness's own interpreter, with the project installed
        env = {**os.environ, **{k: _fill_port(v, port) for k, v in service.env.items()}}
        try:
            process = start_piped(command, env, self._cwd)
        except OSError as exc:
            raise ServiceError(
                f"service {name}: cannot run {command[0]!r}: {exc.strerror}"
            ) from None
        self._processes[name] = process
        assert process.stdout is not None
        pump_lines(name, process.stdout, self._sink)
        if service.ready_url:
            _wait_ready(name, _fill_port(service.ready_url, port), process)

    def stop(self) -> None:
        for process in self._processes.values():
            stop_group(process)
        self._processes.clear()


def _fill_port(text: str, port: int) -> str:
    return text.replace("{port}", str(port))


def _wait_ready(
    name: str, url: str, process: subprocess.Popen[bytes], timeout_s: float = 20
) -> None:
    deadline = time.monotonic() + timeout_s
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(
                f"service {name} exited with code {process.returncode} before it was ready"
            )
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.05)
    raise ServiceError(f"service {name} not ready at {url} after {timeout_s:.0f}s: {last_error}")

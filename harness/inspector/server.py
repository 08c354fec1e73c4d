"""Running the inspector: the observer plus uvicorn, in the foreground (`pylon ui`) or on a
thread beside a running pipeline (`pylon up --ui`, tests, benchmarks).

uvicorn is the ASGI server Starlette is made for; on a thread it installs no signal
handlers, and a graceful-shutdown timeout ends the live (SSE) streams of open pages.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import uvicorn

from harness.errors import HarnessError
from harness.inspector.app import LOCAL_HOSTS, Inspector, create_app
from harness.inspector.extra import DEFAULT_PORT
from harness.inspector.observer import PipelineObserver
from harness.inspector.store import MessageStore
from harness.lifecycle import Running
from harness.processes.ports import LOOPBACK_HOST
from harness.provision import ProvisionedPipeline

_START_SECONDS = 15.0


class InspectorError(HarnessError):
    """The inspector could not start (its port is taken, most often)."""


@dataclass(frozen=True)
class Binding:
    """Where the web server listens, and which Host headers it answers.

    Local by default: 127.0.0.1 and the local names only, so a web page elsewhere cannot
    reach it through DNS rebinding. `remote` listens on every interface and answers any
    Host (the user asked for it: `--allow-remote`).
    """

    port: int = DEFAULT_PORT
    remote: bool = False

    @property
    def host(self) -> str:
        return "0.0.0.0" if self.remote else LOOPBACK_HOST

    @property
    def allowed_hosts(self) -> list[str]:
        return ["*"] if self.remote else LOCAL_HOSTS


def default_capture(pipeline_name: str) -> Path:
    """Where the inspector records what is published, for `pylon replay --from-step`."""
    return Path(".pylon") / "ui" / f"{pipeline_name}.capture.jsonl"


def new_inspector(
    pipeline: ProvisionedPipeline,
    endpoint_url: str,
    spec_path: str,
    capture_path: Path | None = None,
    session: boto3.session.Session | None = None,
    store: MessageStore | None = None,
) -> Inspector:
    """An inspector of `pipeline`; pass the `store` a LogTap already feeds, if any."""
    session = session or boto3.session.Session()
    store = store or MessageStore()
    observer = PipelineObserver(pipeline, store, capture_path, session)
    return Inspector(pipeline, store, observer, session, endpoint_url, spec_path)


class InspectorServer(Running):
    """The observer and the web server; `url` once started."""

    def __init__(self, inspector: Inspector, binding: Binding = Binding()) -> None:
        self.inspector = inspector
        self.binding = binding
        config = uvicorn.Config(
            create_app(inspector, binding.allowed_hosts),
            host=binding.host,
            port=binding.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one the OS picked when asked for port 0)."""
        servers = getattr(self._server, "servers", None) or []
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.binding.port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}"

    def start(self) -> InspectorServer:
        self.inspector.observer.start()
        self._thread = threading.Thread(target=self._server.run, name="pylon-ui", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.inspector.observer.stop()
                raise InspectorError(
                    f"the inspector could not listen on {self.binding.host}:{self.binding.port} "
                    "(is another `pylon ui` running there? pick another with --port)"
                )
            time.sleep(0.02)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the foreground)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.inspector.observer.stop()

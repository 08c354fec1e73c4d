"""Each component as a container of the Pylon base image, as it would run on ECS.

The project directory is mounted read-only at /app (the working directory), so the
containers run the code being edited without an image build per change; each runs
`python -m harness.run.launch <entrypoint>` with the same environment a process
would get. Containers use the host network: they reach the emulator and the spec's
services on 127.0.0.1, which also works on engines without a bridge network.
Stopping sends SIGTERM (the component finishes the message in hand), then SIGKILL
after the grace period, and removes the containers.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.containers import engine
from harness.containers.images import ensure_pylon_images
from harness.containers.ownership import ownership_labels, remove_orphans
from harness.endpoints import AwsEndpoint
from harness.lifecycle import Running
from harness.processes.output import LineSink
from harness.provision import ProvisionedComponent
from harness.run.processes import STOP_GRACE_SECONDS

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

APP_DIR = "/app"

logger = logging.getLogger(__name__)


def container_environment(component: ProvisionedComponent, endpoint: AwsEndpoint) -> dict[str, str]:
    """What the component's container gets: its provisioned environment, nothing of ours.

    The host's environment is not passed on (it is another machine as far as the
    container is concerned); the endpoint variables already hold everything AWS needs.
    """
    return component.environment(endpoint) | {"PYTHONPATH": APP_DIR}


def _pump_logs(name: str, container: Container, sink: LineSink) -> threading.Thread:
    """Forward the container's output to `sink`, line by line, until it stops."""

    def pump() -> None:
        pending = b""
        for chunk in container.logs(stream=True, follow=True):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                sink(name, line.decode("utf-8", errors="replace"))
        if pending:
            sink(name, pending.decode("utf-8", errors="replace"))

    thread = threading.Thread(target=pump, name=f"log-{name}", daemon=True)
    thread.start()
    return thread


class ContainerRunner(Running):
    """Starts components as containers; `stop()` (or leaving the `with`) removes them all."""

    def __init__(
        self,
        components: Sequence[ProvisionedComponent],
        endpoint: AwsEndpoint,
        sink: LineSink,
        project_root: Path | None = None,
    ) -> None:
        self._components = list(components)
        self._endpoint = endpoint
        self._sink = sink
        self._root = (project_root or Path.cwd()).resolve()
        self._engine: docker.DockerClient | None = None
        self.containers: dict[str, Container] = {}
        self._image = ""

    def start(self) -> None:
        self._engine = engine.client()
        remove_orphans(self._engine)
        image = ensure_pylon_images(self._engine, lambda line: logger.info("%s", line))
        self._image = image
        try:
            for component in self._components:
                self.start_component(component, image)
        except BaseException:
            self.stop()
            raise

    def start_component(self, component: ProvisionedComponent, image: str) -> Container:
        assert self._engine is not None, "start() first"
        name = component.spec.name
        container = self._engine.containers.run(
            image,
            ["python", "-m", "harness.run.launch", component.spec.entrypoint],
            name=f"pylon-{name}-{uuid.uuid4().hex[:8]}",
            environment=container_environment(component, self._endpoint),
            network_mode="host",
            volumes={str(self._root): {"bind": APP_DIR, "mode": "ro"}},
            working_dir=APP_DIR,
            labels=ownership_labels("component"),
            # PID 1 ignores signals it has no handler for: without an init, a SIGTERM that
            # arrives before Pylon installed its handler would be lost.
            init=True,
            detach=True,
        )
        self.containers[name] = container
        _pump_logs(name, container, self._sink)
        return container

    def replace(self, component: ProvisionedComponent) -> None:
        """A new container for `component`: the project is mounted, not copied, so the new
        container runs the saved code with no image build. It starts first; the old one
        gets SIGTERM (finishing its message) and is removed on a thread."""
        old = self.containers.get(component.spec.name)
        self.start_component(component, self._image)
        if old is not None:
            _retire(old)

    def remove(self, name: str) -> None:
        """Stop a component's container for good (it finishes the message in hand)."""
        container = self.containers.pop(name, None)
        if container is not None:
            _retire(container)

    def exited(self) -> dict[str, int]:
        """Components whose container has stopped, with their exit codes."""
        codes = {}
        for name, container in self.containers.items():
            container.reload()
            if container.status == "exited":
                codes[name] = int(container.attrs["State"]["ExitCode"])
        return codes

    def stop(self) -> dict[str, int]:
        """SIGTERM every container at once, wait (SIGKILL after the grace), remove them."""
        import docker.errors

        containers, self.containers = self.containers, {}
        for container in containers.values():
            try:
                container.kill(signal="SIGTERM")
            except docker.errors.APIError as exc:  # already exited: nothing to signal
                logger.debug("SIGTERM to %s: %s", container.name, exc)
        codes = {name: _wait_then_remove(container) for name, container in containers.items()}
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        return codes


def _retire(container: Container) -> None:
    import docker.errors

    try:
        container.kill(signal="SIGTERM")
    except docker.errors.APIError as exc:  # already exited: nothing to signal
        logger.debug("SIGTERM to %s: %s", container.name, exc)
    threading.Thread(
        target=_wait_then_remove, args=(container,), name="pylon-retire", daemon=True
    ).start()


def _wait_then_remove(container: Container) -> int:
    """The container's exit code once it stopped (killed after the grace); it is removed."""
    import docker.errors
    import requests.exceptions

    try:
        code = int(container.wait(timeout=STOP_GRACE_SECONDS)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        logger.warning(
            "%s ignored SIGTERM for %.0f s; killing it", container.name, STOP_GRACE_SECONDS
        )
        container.remove(force=True)  # SIGKILL, then gone: nothing left to wait for
        return -9  # as subprocess reports a process killed by signal 9
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        logger.debug("%s was already removed", container.name)
    return code

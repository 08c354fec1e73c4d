"""An emulator image run as a container through testcontainers: what LocalStack and the
MiniStack image share.

The emulator listens on this machine's loopback only: with the host network (engines
without a bridge, e.g. `dockerd --bridge=none`) on a free 127.0.0.1 port, otherwise with
its port published on 127.0.0.1. testcontainers' reaper is not used (it is an image
pulled from a registry); the container is labelled and removed by `stop()`, at exit, or
by the next harness run if this process was killed (`harness.containers.ownership`).
A start that fails says why, with the container's last 40 log lines.
"""

from __future__ import annotations

import atexit
import logging
import os
import uuid
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.containers import engine
from harness.containers.ownership import ownership_labels, remove_orphans
from harness.emulators.admin import wait_until_healthy
from harness.emulators.base import Emulator
from harness.errors import EmulatorError
from harness.processes.ports import LOOPBACK_HOST, free_loopback_port

if TYPE_CHECKING:
    import docker
    from testcontainers.community.localstack import LocalStackContainer

NETWORK_ENV_VAR = "PYLON_DOCKER_NETWORK"
GATEWAY_PORT = 4566
RYUK_ENV_VAR = "TESTCONTAINERS_RYUK_DISABLED"

_LOG_TAIL_LINES = 40

logger = logging.getLogger(__name__)


class NetworkMode(StrEnum):
    """How the container is reached: its own port on the host network, or a published one."""

    HOST = "host"
    BRIDGE = "bridge"


def _listen_env(port: int) -> dict[str, str]:
    """Bind the emulator to 127.0.0.1:`port` on the host network.

    LocalStack reads GATEWAY_LISTEN; MiniStack reads GATEWAY_PORT and BIND_HOST (its
    source: GATEWAY_PORT > EDGE_PORT > 4566). Each ignores the others' variables.
    """
    return {
        "GATEWAY_LISTEN": f"{LOOPBACK_HOST}:{port}",
        "GATEWAY_PORT": str(port),
        "BIND_HOST": LOOPBACK_HOST,
    }


def _use_own_reaping(environ: Mapping[str, str]) -> None:
    """Turn testcontainers' Ryuk off unless the user configured it: we reap our own containers."""
    from testcontainers.core.config import testcontainers_config

    if RYUK_ENV_VAR not in environ:
        testcontainers_config.ryuk_disabled = True


def _new_container(
    image: str, slug: str, region: str, network: NetworkMode, env: Mapping[str, str]
) -> tuple[LocalStackContainer, int | None]:
    """The testcontainers container (not started), and its port when on the host network.

    testcontainers' LocalStackContainer only adds the region and the gateway port to a
    plain container: what every LocalStack-compatible image wants.
    """
    from testcontainers.community.localstack import LocalStackContainer

    name = f"pylon-{slug}-{uuid.uuid4().hex[:8]}"
    options: dict[str, Any] = {"labels": ownership_labels("emulator"), "name": name}
    host_port = free_loopback_port() if network is NetworkMode.HOST else None
    if host_port is not None:
        options["network_mode"] = "host"
    container = LocalStackContainer(image=image, region_name=region, **options)
    if host_port is None:
        # Published on loopback only, on a port the engine picks.
        container.ports = {f"{GATEWAY_PORT}/tcp": (LOOPBACK_HOST,)}  # type: ignore[dict-item]
    else:
        container.ports = {}  # nothing to publish: the emulator binds the host's loopback
        container.with_envs(**_listen_env(host_port))
    container.with_envs(**env)
    return container, host_port


class ContainerEmulator(Emulator):
    """An emulator container, started on `start()` and removed on `stop()`.

    Subclasses name the image and say how to wipe its state (`reset`); `check_identity`
    may refuse an image that answers health checks but is not the emulator expected.
    """

    #: What the emulator is, for messages ("LocalStack", "MiniStack in a container").
    label = "emulator"
    #: Its containers are named pylon-<slug>-<random>.
    slug = "emulator"

    def __init__(
        self,
        image: str,
        *,
        region: str = "us-east-1",
        network: NetworkMode | None = None,
        extra_env: Mapping[str, str] | None = None,
        start_timeout_s: float = 120.0,
        environ: Mapping[str, str] = os.environ,
        volumes: Mapping[Path, str] | None = None,
    ) -> None:
        """Configure, without starting anything.

        `network` defaults to $PYLON_DOCKER_NETWORK, then the host network when the
        engine has no bridge. `extra_env` is passed to the emulator; `volumes` mounts
        host folders (read-only) at container paths.
        """
        super().__init__(region)
        self.image = image
        self._network = network or _network_from(environ)
        self._env = dict(extra_env or {})
        self._volumes = dict(volumes or {})
        self._environ = environ
        self._start_timeout_s = start_timeout_s
        self._container: LocalStackContainer | None = None
        self._url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise EmulatorError(
                f"the {self.image} container is not running, so it has no endpoint; call "
                f"start() first (or use `with {type(self).__name__}() as emulator:`)"
            )
        return self._url

    @property
    def container_id(self) -> str | None:
        return None if self._container is None else self._container.get_container_id()

    def is_running(self) -> bool:
        if self._container is None:
            return False
        import docker.errors

        wrapped = self._container.get_wrapped_container()
        try:
            wrapped.reload()
        except docker.errors.DockerException as exc:  # NotFound and friends: it is gone
            logger.debug("container %s no longer inspectable: %s", wrapped.name, exc)
            return False
        return bool(wrapped.status == "running")

    def start(self) -> None:
        """Start the container and wait until its health endpoint answers; no-op if running."""
        if self.is_running():
            return
        import docker.errors

        docker_engine = engine.client()
        try:
            remove_orphans(docker_engine)
            self.image = self.choose_image(docker_engine)
            network = self._network or (
                NetworkMode.BRIDGE if engine.has_bridge_network(docker_engine) else NetworkMode.HOST
            )
        finally:
            docker_engine.close()
        _use_own_reaping(self._environ)
        container, host_port = _new_container(
            self.image, self.slug, self.region, network, self._env
        )
        for host_path, container_path in self._volumes.items():
            container.with_volume_mapping(str(host_path.resolve()), container_path, "ro")
        self._container = container
        atexit.register(self.stop)
        try:
            self._start(container, host_port)
        except docker.errors.APIError as exc:  # most often: the image cannot be pulled
            self.stop()
            raise EmulatorError(
                f"cannot start {self.image}: {exc.explanation or exc}; {self.how_to_get_image()}"
            ) from None
        except EmulatorError as exc:
            reason = self._start_failure(exc)
            self.stop()
            raise reason from exc
        except BaseException:
            self.stop()  # e.g. Ctrl-C while waiting, or the image cannot be pulled
            raise

    def _start(self, container: LocalStackContainer, host_port: int | None) -> None:
        # DockerContainer.start, not LocalStackContainer.start: the latter waits for
        # LocalStack's "Ready." log line, which other compatible images do not print.
        # The health endpoint below is what every one of them serves.
        from testcontainers.core.container import DockerContainer

        DockerContainer.start(container)
        port = host_port or int(container.get_exposed_port(GATEWAY_PORT))
        self._url = f"http://{LOOPBACK_HOST}:{port}"
        wait_until_healthy(self._url, self._start_timeout_s, keep_waiting=self.is_running)
        self.check_identity(self._url)

    def choose_image(self, docker_engine: docker.DockerClient) -> str:
        """The image to run, decided when starting (it may depend on what the engine has)."""
        return self.image

    def check_identity(self, endpoint_url: str) -> None:
        """Raise EmulatorError when the healthy endpoint is not the emulator expected."""

    def how_to_get_image(self) -> str:
        """What to do when the image cannot be had (one command, where there is one)."""
        return "pull or build it, or name another image"

    def _start_failure(self, exc: EmulatorError) -> EmulatorError:
        """The error to raise for a failed start, with the container's last log lines."""
        import docker.errors

        assert self._container is not None
        try:
            stdout, stderr = self._container.get_logs()
            lines = (stdout + stderr).decode(errors="replace").splitlines()
            tail = "\n".join(lines[-_LOG_TAIL_LINES:]) or "(log empty)"
        except docker.errors.DockerException as log_error:  # it may already be gone
            tail = f"(no log: {log_error})"
        return EmulatorError(
            f"{self.label} ({self.image}) did not start at {self._url}: {exc}\n"
            f"--- last {_LOG_TAIL_LINES} lines of its log ---\n{tail}"
        )

    def stop(self) -> None:
        """Remove the container (and its anonymous volumes); idempotent."""
        atexit.unregister(self.stop)
        container, self._container, self._url = self._container, None, None
        if container is None:
            return
        import docker.errors

        try:
            container.stop()
        except docker.errors.NotFound as exc:  # already removed (e.g. by hand): nothing to do
            logger.warning("could not remove the %s container: %s", self.image, exc)


def _network_from(environ: Mapping[str, str]) -> NetworkMode | None:
    value = environ.get(NETWORK_ENV_VAR)
    if not value:
        return None
    try:
        return NetworkMode(value)
    except ValueError:
        raise EmulatorError(
            f"${NETWORK_ENV_VAR} is {value!r}; use one of {[m.value for m in NetworkMode]}"
        ) from None

"""LocalStack, or any LocalStack-compatible image, in a container through testcontainers.

    with LocalStackEmulator() as emulator:
        boto3.client("sqs", endpoint_url=emulator.endpoint_url)

The image is `PYLON_LOCALSTACK_IMAGE`, else the pinned community tag below; a
`LOCALSTACK_AUTH_TOKEN` in the environment is passed through. The emulator listens on
this machine's loopback only: with the host network (engines without a bridge, e.g.
`dockerd --bridge=none`) on a free 127.0.0.1 port, otherwise with its port published on
127.0.0.1. testcontainers' reaper is not used (it is an image pulled from a registry);
the container is labelled and removed by `stop()`, at exit, or by the next harness run
if this process was killed (`harness.containers.ownership`).
"""

from __future__ import annotations

import atexit
import logging
import os
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from harness.containers import engine
from harness.containers.ownership import ownership_labels, remove_orphans
from harness.emulators.admin import (
    LOCALSTACK_RESET_PATH,
    RESET_PATH,
    reset_state,
    wait_until_healthy,
)
from harness.emulators.base import Emulator
from harness.errors import EmulatorError
from harness.processes.ports import LOOPBACK_HOST, free_loopback_port

if TYPE_CHECKING:
    from testcontainers.community.localstack import LocalStackContainer

# Since 2026-03-23 `localstack/localstack:latest` (and every tag from 4.15 on) refuses to
# start without LOCALSTACK_AUTH_TOKEN; 4.14.0 is the last community release that runs
# without one (testcontainers-dotnet#1667 "require auth token for 4.15 and onwards";
# commercetools/fs2-queues#337 "4.14.0 is the latest community version").
LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
IMAGE_ENV_VAR = "PYLON_LOCALSTACK_IMAGE"
AUTH_TOKEN_ENV_VAR = "LOCALSTACK_AUTH_TOKEN"
NETWORK_ENV_VAR = "PYLON_DOCKER_NETWORK"
GATEWAY_PORT = 4566
RYUK_ENV_VAR = "TESTCONTAINERS_RYUK_DISABLED"

_LOG_TAIL_LINES = 40
# MiniStack's reset first: LocalStack answers it with 404, MiniStack answers LocalStack's.
_RESET_PATHS = (RESET_PATH, LOCALSTACK_RESET_PATH)

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
    image: str, region: str, network: NetworkMode, env: Mapping[str, str]
) -> tuple[LocalStackContainer, int | None]:
    """The testcontainers container (not started), and its port when on the host network."""
    from testcontainers.community.localstack import LocalStackContainer

    name = f"pylon-localstack-{uuid.uuid4().hex[:8]}"
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


class LocalStackEmulator(Emulator):
    """A LocalStack-compatible container, started on `start()` and removed on `stop()`."""

    def __init__(
        self,
        *,
        image: str | None = None,
        region: str = "us-east-1",
        network: NetworkMode | None = None,
        extra_env: Mapping[str, str] | None = None,
        start_timeout_s: float = 120.0,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        """Configure, without starting anything.

        `image` defaults to $PYLON_LOCALSTACK_IMAGE, then `LOCALSTACK_IMAGE`; `network`
        to $PYLON_DOCKER_NETWORK, then the host network when the engine has no bridge.
        `extra_env` is passed to the emulator (e.g. `{"SERVICES": "sqs,sns"}`).
        """
        super().__init__(region)
        self.image = image or environ.get(IMAGE_ENV_VAR) or LOCALSTACK_IMAGE
        self._network = network or _network_from(environ)
        self._env = dict(extra_env or {})
        token = environ.get(AUTH_TOKEN_ENV_VAR)
        if token:
            self._env[AUTH_TOKEN_ENV_VAR] = token
        self._environ = environ
        self._start_timeout_s = start_timeout_s
        self._container: LocalStackContainer | None = None
        self._url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise EmulatorError(
                f"the {self.image} container is not running, so it has no endpoint; call "
                "start() first (or use `with LocalStackEmulator() as emulator:`)"
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
        remove_orphans(docker_engine)
        network = self._network or (
            NetworkMode.BRIDGE if engine.has_bridge_network(docker_engine) else NetworkMode.HOST
        )
        docker_engine.close()
        _use_own_reaping(self._environ)
        container, host_port = _new_container(self.image, self.region, network, self._env)
        self._container = container
        atexit.register(self.stop)
        try:
            self._start(container, host_port)
        except docker.errors.APIError as exc:  # most often: the image cannot be pulled
            self.stop()
            raise EmulatorError(
                f"cannot start {self.image}: {exc.explanation or exc}; where no registry can be "
                f"reached, build a LocalStack-compatible image (`pylon image build --emulator`) "
                f"and name it in ${IMAGE_ENV_VAR}"
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
            f"{self.image} did not become healthy at {self._url}: {exc}\n"
            f"--- last lines of its log ---\n{tail}"
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

    def reset(self) -> None:
        """Wipe all state: MiniStack's reset, else LocalStack's `/_localstack/state/reset`."""
        for path in _RESET_PATHS:
            if reset_state(self.endpoint_url, path=path):
                return
        raise EmulatorError(
            f"{self.image} at {self.endpoint_url} offers neither POST {RESET_PATH} nor POST "
            f"{LOCALSTACK_RESET_PATH}; use an image that can wipe its state between tests"
        )


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

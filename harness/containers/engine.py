"""The Docker engine the harness talks to (through the docker SDK), and why it may not be usable.

The engine is whatever the docker SDK finds from the environment (`DOCKER_HOST`, else
the local socket). Tests that need one are skipped when `unavailable_reason()` says why
there is none; everything else raises `DockerUnavailableError` with the same reason.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    import docker

# Pinging a missing socket fails at once; a wedged engine must not hang a test session.
_PING_TIMEOUT_S = 10
# Image builds and container stops take longer than one API call's default.
_API_TIMEOUT_S = 600


class DockerUnavailableError(HarnessError):
    """No Docker engine can be used (SDK missing, engine not running or not answering)."""


def client() -> docker.DockerClient:
    """A docker SDK client for the environment's engine; raises DockerUnavailableError."""
    try:
        import docker
    except ImportError:
        raise DockerUnavailableError(
            "the docker SDK is not installed; install Pylon's docker extra "
            "(pip install 'pylon-pipelines[docker]')"
        ) from None
    try:
        found = docker.from_env(timeout=_API_TIMEOUT_S)
        found.api.timeout = _PING_TIMEOUT_S
        found.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailableError(
            f"no Docker engine answers ({_first_line(exc)}); start one (dockerd) or set DOCKER_HOST"
        ) from None
    found.api.timeout = _API_TIMEOUT_S
    return found


def unavailable_reason() -> str | None:
    """Why no engine can be used, or None when one answers a ping."""
    try:
        client().close()
    except DockerUnavailableError as exc:
        return str(exc)
    return None


@functools.cache
def cached_unavailable_reason() -> str | None:
    """`unavailable_reason()`, asked once per process (for per-test skip decisions)."""
    return unavailable_reason()


def has_bridge_network(engine: docker.DockerClient) -> bool:
    """False for an engine started with `--bridge=none`: containers then need the host network."""
    # The name filter also matches parts of names; only the default network counts.
    return any(n.name == "bridge" for n in engine.networks.list(names=["bridge"]))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

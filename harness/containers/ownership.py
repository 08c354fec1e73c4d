"""Labels saying which process started a container, and removal of orphans left behind.

testcontainers' reaper (Ryuk) is itself an image pulled from a registry, which offline
machines cannot do, so the harness reaps its own containers instead: each is labelled
with this host and process id, is removed by its owner on stop (and at exit), and any
whose owner process has died (a killed test run) is removed by the next harness that
starts a container. Containers of other live processes are never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker

HARNESS_LABEL = "dev.pylon.harness"
OWNER_LABEL = "dev.pylon.owner"
ROLE_LABEL = "dev.pylon.role"

logger = logging.getLogger(__name__)


def owner() -> str:
    """`<host>:<pid>` of this process: who is responsible for removing a container."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ownership_labels(role: str) -> dict[str, str]:
    """Labels for a container this process starts; `role` says what it is (emulator, component)."""
    return {HARNESS_LABEL: "true", OWNER_LABEL: owner(), ROLE_LABEL: role}


def _owner_is_gone(label: str) -> bool:
    host, _, pid = label.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process, or a label we did not write
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, just someone else's
    return False


def remove_orphans(engine: docker.DockerClient) -> list[str]:
    """Remove harness containers whose owner process on this host has died; return their names."""
    import docker.errors

    removed = []
    for container in engine.containers.list(all=True, filters={"label": HARNESS_LABEL}):
        if not _owner_is_gone(container.labels.get(OWNER_LABEL, "")):
            continue
        # NotFound: its owner's own cleanup, or another reaper, got there first.
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
            removed.append(container.name)
    if removed:
        logger.warning("removed containers left by dead harness processes: %s", removed)
    return removed

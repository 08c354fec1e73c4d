"""LocalStackEmulator, driven for real: a container through testcontainers, on loopback,
wiped by reset, removed by stop; orphans of dead processes reaped. Needs Docker.

The image is $PYLON_LOCALSTACK_IMAGE when set (CI: MiniStack built locally), else the
pinned LocalStack community tag.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

import boto3
import docker.errors
import pytest

from harness.containers import engine
from harness.containers.images import ensure_pylon_images
from harness.containers.ownership import HARNESS_LABEL, OWNER_LABEL, remove_orphans
from harness.emulators.localstack import (
    AUTH_TOKEN_ENV_VAR,
    IMAGE_ENV_VAR,
    LOCALSTACK_IMAGE,
    NETWORK_ENV_VAR,
    LocalStackEmulator,
)
from harness.errors import EmulatorError


def _sqs(emulator: LocalStackEmulator) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid



def test_an_unknown_network_mode_is_refused() -> None:
    with pytest.raises(EmulatorError, match=rf"\${NETWORK_ENV_VAR} is 'wifi'"):
        LocalStackEmulator(environ={NETWORK_ENV_VAR: "wifi"})


def test_image_defaults_to_the_pinned_community_tag() -> None:
    assert LocalStackEmulator(environ={}).image == LOCALSTACK_IMAGE
    assert LocalStackEmulator(environ={IMAGE_ENV_VAR: "my/emulator:1"}).image == "my/emulator:1"


@pytest.mark.docker
def test_container_serves_on_loopback_is_wiped_by_reset_and_removed_by_stop(
    docker_engine: Any,
) -> None:
    environ = dict(os.environ) | {AUTH_TOKEN_ENV_VAR: "token-for-the-test"}
    emulator = LocalStackEmulator(environ=environ)

    with emulator:
        sqs = _sqs(emulator)
        sqs.create_queue(QueueName="before-reset")
        container = docker_engine.containers.get(emulator.container_id)
        emulator.reset()
        after_reset = sqs.list_queues().get("QueueUrls", [])

    assert after_reset == []
    assert container.labels[HARNESS_LABEL] == "true"
    assert container.labels[OWNER_LABEL] == f"{socket.gethostname()}:{os.getpid()}"
    assert f"{AUTH_TOKEN_ENV_VAR}=token-for-the-test" in container.attrs["Config"]["Env"]
    with pytest.raises(docker.errors.NotFound):
        docker_engine.containers.get(container.id)


@pytest.mark.docker
def test_endpoint_is_on_this_machines_loopback_only() -> None:
    with LocalStackEmulator() as emulator:
        host_port = emulator.endpoint_url.rsplit(":", 1)[1]

        assert emulator.endpoint_url == f"http://127.0.0.1:{host_port}"
        assert emulator.is_running()
    assert not emulator.is_running()


@pytest.mark.docker
def test_an_image_that_is_no_emulator_fails_with_its_log() -> None:
    docker_engine = engine.client()
    base = ensure_pylon_images(docker_engine, print)
    docker_engine.close()
    emulator = LocalStackEmulator(image=base, start_timeout_s=30)

    with pytest.raises(EmulatorError, match=r"did not become healthy(.|\n)*last lines of its log"):
        emulator.start()
    assert not emulator.is_running()


@pytest.mark.docker
def test_orphans_of_dead_processes_are_removed_and_live_ones_kept(docker_engine: Any) -> None:
    image = ensure_pylon_images(docker_engine, print)
    host = socket.gethostname()
    containers = {
        owner: docker_engine.containers.create(
            image, ["sleep", "60"], labels={HARNESS_LABEL: "true", OWNER_LABEL: owner}
        )
        for owner in (f"{host}:{_dead_pid()}", f"{host}:{os.getpid()}")
    }
    dead, alive = containers.values()
    try:
        removed = remove_orphans(docker_engine)

        assert dead.name in removed
        assert alive.name not in removed
        docker_engine.containers.get(alive.id)
    finally:
        alive.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        docker_engine.containers.get(dead.id)

"""The README's three-line component Dockerfile: built on the Pylon base image, run as a
container against the emulator, answering like the process does. Needs Docker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.containers import engine
from harness.containers.images import ensure_pylon_images
from harness.containers.ownership import ownership_labels
from harness.endpoints import AwsEndpoint
from harness.pytest_plugin import PipelineFactory
from pylon import BaseMessage, ObjectType

pytestmark = [pytest.mark.docker, pytest.mark.slow]

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def hello_image() -> str:
    """examples/readme/Dockerfile built as is (context: examples/readme)."""
    docker_engine = engine.client()
    try:
        ensure_pylon_images(docker_engine, print)
        docker_engine.images.build(path=str(HERE), tag="pylon-readme-hello:test", rm=True)
    finally:
        docker_engine.close()
    return "pylon-readme-hello:test"


@pytest.fixture
def run_container() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for container in started:
        container.remove(force=True)


def test_the_three_line_image_answers_like_the_process(
    hello_image: str,
    pylon_pipeline: PipelineFactory,
    aws_env: AwsEndpoint,
    run_container: list[Any],
) -> None:
    pipeline = pylon_pipeline(HERE / "hello.yaml", run="none")
    component = pipeline.resources.components["hello"]
    docker_engine = engine.client()
    # Only the endpoint and PYLON_CONFIG: IMAGE_NAME and the version come from the
    # image's own .env, as on ECS.
    run_container.append(
        docker_engine.containers.run(
            hello_image,
            environment={"PYLON_CONFIG": component.pylon_config_value, **aws_env.env()},
            network_mode="host",
            labels=ownership_labels("component"),
            detach=True,
        )
    )

    pipeline.publish("greetings", BaseMessage(body="hi", ingestionId="root-1"))

    (reply,) = pipeline.recorder("replies").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60
    )
    assert reply.body == "Hello pylon!"
    step = pipeline.ingestion_steps()[reply.ingestionId]
    assert (step.artifactName, step.artifactVersion) == ("hello", "1.0.0")
    assert step.parentIngestionId == "root-1"

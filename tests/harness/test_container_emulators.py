"""The container emulators, driven for real through testcontainers: real LocalStack (with
MiniStack beside it for DynamoDB and Lambda) and MiniStack in a container. On loopback,
wiped by reset, removed by stop; orphans of dead processes reaped; bad images refused
with a clear error. Needs Docker and the images of `.ci/docker-setup`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import docker.errors
import pytest

from harness.containers import engine
from harness.containers.images import ensure_pylon_images
from harness.containers.ownership import HARNESS_LABEL, OWNER_LABEL, remove_orphans
from harness.emulators.container import NETWORK_ENV_VAR
from harness.emulators.localstack import (
    AUTH_TOKEN_ENV_VAR,
    BUILD_COMMAND,
    BUILT_IMAGE,
    IMAGE_ENV_VAR,
    LOCALSTACK_VERSION,
    OFFICIAL_IMAGE,
    LocalStackEmulator,
)
from harness.emulators.ministack_container import MiniStackContainer
from harness.errors import EmulatorError

ROOT = Path(__file__).parents[2]


def _client(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


class FakeEngine:
    """Just enough of docker.DockerClient for choosing an image: which tags it has."""

    def __init__(self, *tags: str) -> None:
        self.images = self
        self._tags = set(tags)

    def get(self, tag: str) -> object:
        if tag not in self._tags:
            raise docker.errors.ImageNotFound(tag)
        return object()


# ---------------------------------------------------------------- choosing the image


def test_an_unknown_network_mode_is_refused() -> None:
    with pytest.raises(EmulatorError, match=rf"\${NETWORK_ENV_VAR} is 'wifi'"):
        LocalStackEmulator(environ={NETWORK_ENV_VAR: "wifi"})


def test_the_image_named_in_the_environment_comes_first() -> None:
    emulator = LocalStackEmulator(environ={IMAGE_ENV_VAR: "my/localstack:1"})
    assert emulator.choose_image(FakeEngine(OFFICIAL_IMAGE, BUILT_IMAGE)) == "my/localstack:1"  # type: ignore[arg-type]


def test_the_official_image_comes_before_ours_when_the_engine_has_it() -> None:
    emulator = LocalStackEmulator(environ={})
    assert emulator.choose_image(FakeEngine(OFFICIAL_IMAGE, BUILT_IMAGE)) == OFFICIAL_IMAGE  # type: ignore[arg-type]
    assert emulator.choose_image(FakeEngine(BUILT_IMAGE)) == BUILT_IMAGE  # type: ignore[arg-type]


def test_no_localstack_image_is_an_error_naming_the_command_that_builds_it() -> None:
    with pytest.raises(EmulatorError, match=BUILD_COMMAND) as raised:
        LocalStackEmulator(environ={}).choose_image(FakeEngine("pylon-base:0.1.0"))  # type: ignore[arg-type]
    assert OFFICIAL_IMAGE in str(raised.value) and BUILT_IMAGE in str(raised.value)


# ---------------------------------------------------------------- real LocalStack


@pytest.mark.docker
def test_localstack_serves_on_loopback_is_wiped_by_reset_and_removed_by_stop(
    docker_engine: Any,
) -> None:
    environ = dict(os.environ) | {AUTH_TOKEN_ENV_VAR: "token-for-the-test"}
    emulator = LocalStackEmulator(environ=environ)

    with emulator:
        endpoint = emulator.endpoint
        sqs = _client("sqs", endpoint.endpoint_url)
        sqs.create_queue(QueueName="before-reset")
        _client("s3", endpoint.endpoint_url).create_bucket(Bucket="before-reset")
        container = docker_engine.containers.get(emulator.container_id)
        emulator.reset()
        after_reset = sqs.list_queues().get("QueueUrls", [])
        buckets = _client("s3", endpoint.endpoint_url).list_buckets()["Buckets"]

    assert emulator.version == LOCALSTACK_VERSION or emulator.image != BUILT_IMAGE
    assert (after_reset, buckets) == ([], [])
    assert endpoint.endpoint_url.startswith("http://127.0.0.1:")
    assert container.labels[HARNESS_LABEL] == "true"
    assert container.labels[OWNER_LABEL] == f"{socket.gethostname()}:{os.getpid()}"
    assert f"{AUTH_TOKEN_ENV_VAR}=token-for-the-test" in container.attrs["Config"]["Env"]
    with pytest.raises(docker.errors.NotFound):
        docker_engine.containers.get(container.id)


@pytest.mark.docker
def test_dynamodb_and_lambda_go_to_the_ministack_beside_localstack() -> None:
    with LocalStackEmulator() as emulator:
        endpoint = emulator.endpoint
        routed = dict(endpoint.service_endpoints)
        env = endpoint.env()
        _client("dynamodb", endpoint.url_for("dynamodb")).create_table(
            TableName="lineage",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        tables = _client("dynamodb", routed["dynamodb"]).list_tables()["TableNames"]

    assert set(routed) == {"dynamodb", "lambda"}
    assert routed["dynamodb"] != endpoint.endpoint_url
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == routed["dynamodb"]
    assert env["AWS_ENDPOINT_URL"] == endpoint.endpoint_url
    assert tables == ["lineage"]


@pytest.mark.docker
def test_localstacks_usual_port_taken_is_no_obstacle() -> None:
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", 4566))  # LocalStack's default gateway port
            taken.listen()
        except OSError:
            pass  # already taken by something else: just as good for this test
        with LocalStackEmulator() as emulator:
            port = int(emulator.endpoint_url.rsplit(":", 1)[1])
            queues = _client("sqs", emulator.endpoint_url).list_queues()
    assert port != 4566
    assert queues["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.docker
def test_an_image_that_is_not_localstack_is_refused_clearly() -> None:
    emulator = LocalStackEmulator(image=MiniStackContainer(environ={}).image, start_timeout_s=60)

    with pytest.raises(EmulatorError, match=r"is not LocalStack(.|\n)*ministack-container"):
        emulator.start()
    assert not emulator.is_running()


@pytest.mark.docker
def test_an_image_that_never_becomes_healthy_fails_with_its_last_40_log_lines() -> None:
    docker_engine = engine.client()
    base = ensure_pylon_images(docker_engine, print)
    docker_engine.close()
    emulator = LocalStackEmulator(image=base, start_timeout_s=10)

    with pytest.raises(EmulatorError, match=r"did not start(.|\n)*last 40 lines of its log"):
        emulator.start()
    assert not emulator.is_running()


# ---------------------------------------------------------------- init hooks


@pytest.mark.docker
@pytest.mark.slow
def test_an_init_hook_provisions_the_spec_when_localstack_boots(tmp_path: Path) -> None:
    hooks = tmp_path / "ready.d"
    written = subprocess.run(
        [
            sys.executable, "-m", "harness.cli.main", "provision",
            str(ROOT / "examples" / "docs_pipeline" / "pipeline.yaml"),
            "--config-in-ssm", "--service", "docs-server=8080",
            "--init-hook", str(hooks / "docs.py"),
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr

    with LocalStackEmulator(
        init_hooks=hooks, extra_env={"PYLON_SERVICE_PORT_DOCS_SERVER": "9090"}
    ) as emulator:
        endpoint = emulator.endpoint
        queues = _client("sqs", endpoint.endpoint_url).list_queues()["QueueUrls"]
        subscriptions = _client("sns", endpoint.endpoint_url).list_subscriptions()["Subscriptions"]
        fetcher = _client("ssm", endpoint.endpoint_url).get_parameter(
            Name="/pylon/docs/fetcher", WithDecryption=True
        )["Parameter"]
        tables = _client("dynamodb", endpoint.url_for("dynamodb")).list_tables()["TableNames"]

    assert sorted(url.rsplit("/", 1)[1] for url in queues) == [
        "docs-pylon-lineage-in", "docs-pylon-lineage-in-dlq", "lake-writer-in",
        "lake-writer-in-dlq", "parser-in", "parser-in-dlq",
    ]  # fmt: skip
    assert len(subscriptions) == 4
    assert fetcher["Type"] == "SecureString"
    assert json.loads(fetcher["Value"])["SOURCE_URL"] == "http://127.0.0.1:9090/index.json"
    assert tables == ["docs-lineage"]


@pytest.mark.docker
def test_a_failing_init_hook_is_named_in_the_error(tmp_path: Path) -> None:
    hooks = tmp_path / "ready.d"
    hooks.mkdir()
    (hooks / "broken.py").write_text("raise RuntimeError('this hook is broken')\n")

    with pytest.raises(EmulatorError, match=r"init hook\(s\) \['broken.py'\] failed"):
        LocalStackEmulator(init_hooks=hooks).start()


# ---------------------------------------------------------------- localstack-client


@pytest.mark.docker
def test_code_written_for_localstack_client_runs_unchanged(tmp_path: Path) -> None:
    script = tmp_path / "uses_localstack_client.py"
    script.write_text(
        "import localstack_client.session as session\n"
        "sqs = session.Session().client('sqs')\n"
        "url = sqs.create_queue(QueueName='from-localstack-client')['QueueUrl']\n"
        "sqs.send_message(QueueUrl=url, MessageBody='hello')\n"
        "print(sqs.receive_message(QueueUrl=url)['Messages'][0]['Body'])\n"
    )
    with LocalStackEmulator() as emulator:
        result = subprocess.run(
            [sys.executable, str(script)],
            env={**os.environ, "LOCALSTACK_HOST": emulator.localstack_host},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        queues = _client("sqs", emulator.endpoint_url).list_queues()["QueueUrls"]

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello"
    assert [url.rsplit("/", 1)[1] for url in queues] == ["from-localstack-client"]


# ---------------------------------------------------------------- MiniStack in a container


@pytest.mark.docker
def test_ministack_container_is_wiped_by_reset_and_says_it_is_ministack() -> None:
    with MiniStackContainer() as emulator:
        sqs = _client("sqs", emulator.endpoint_url)
        sqs.create_queue(QueueName="before-reset")
        emulator.reset()
        assert sqs.list_queues().get("QueueUrls", []) == []
        assert emulator.label == "MiniStack in a container"
        assert emulator.endpoint.service_endpoints == ()


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

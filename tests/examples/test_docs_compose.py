"""`docker compose --profile localstack up` of the docs example: offline, on real
LocalStack provisioned by its own init hook (DynamoDB on MiniStack beside it), with the
result (the lake's files and row counts) printed by the `lake-report` service.

On an engine without a bridge network the host-network override is added, as the
README says to. The images are the ones `.ci/docker-setup` builds (pylon-localstack,
pylon-ministack, pylon-base, pylon-harness).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from harness.containers import engine
from harness.containers.images import ensure_pylon_images
from harness.processes.ports import free_loopback_port
from harness.testing.waiting import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
UP_TIMEOUT_S = 600


@dataclass
class Compose:
    """`docker compose` on the repository's compose files, as one isolated project."""

    files: list[str]
    project: str
    env: dict[str, str]

    def run(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        command = ["docker", "compose", "-p", self.project]
        command += [option for name in self.files for option in ("-f", name)]
        return subprocess.run(
            [*command, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def logs(self) -> str:
        return self.run("logs", "--no-color").stdout


def _compose_files() -> list[str]:
    docker_engine = engine.client()
    try:
        ensure_pylon_images(docker_engine, print)
        bridge = engine.has_bridge_network(docker_engine)
    finally:
        docker_engine.close()
    return ["docker-compose.yaml"] + ([] if bridge else ["docker-compose.host.yaml"])


@pytest.fixture
def compose() -> Iterator[Compose]:
    if shutil.which("docker") is None:
        pytest.fail("the docker CLI is not on PATH; install it with Docker Compose v2")
    project = Compose(
        _compose_files(),
        f"pylon-test-{uuid.uuid4().hex[:8]}",
        dict(os.environ)
        | {
            "PYLON_EMULATOR_PORT": str(free_loopback_port()),
            "PYLON_DYNAMODB_PORT": str(free_loopback_port()),
            "PYLON_DOCS_SERVER_PORT": str(free_loopback_port()),
            "PYLON_LAKE_REPORT_TIMEOUT": "120",
        },
    )
    version = project.run("version")
    if version.returncode != 0:
        pytest.fail(f"`docker compose` is not available: {version.stderr.strip()}")
    yield project
    project.run("down", "--volumes", "--timeout", "30", timeout_s=180)


def test_compose_up_runs_the_example_on_localstack_and_prints_the_lake(compose: Compose) -> None:
    up = compose.run("--profile", "localstack", "up", "--detach", "--build", timeout_s=UP_TIMEOUT_S)
    assert up.returncode == 0, f"{up.stderr}\n{compose.logs()}"

    waited = compose.run("wait", "lake-report", timeout_s=180)

    report = compose.run("logs", "--no-color", "--no-log-prefix", "lake-report").stdout
    assert waited.returncode == 0, f"lake-report failed:\n{compose.logs()}"
    assert "s3://docs-lake/lake/ holds 2 file(s), 28 rows:" in report, compose.logs()
    rows = {
        line.split()[0].split("/")[-2]: int(line.split()[1])
        for line in report.splitlines()
        if line.strip().startswith("lake/")
    }
    assert rows == {"observed_date=2024-05-01": 16, "observed_date=2024-05-02": 12}
    emulator = compose.run("logs", "--no-color", "emulator").stdout
    assert "pylon: provisioned docs" in emulator, emulator
    compose.run("--profile", "localstack", "wait", "localstack-status", timeout_s=120)
    status = compose.run(
        "--profile", "localstack", "logs", "--no-color", "--no-log-prefix", "localstack-status"
    ).stdout
    assert "sqs" in status and "LocalStack 2026.3.0" in status, status
    assert "init hook docs-pipeline.py: SUCCESSFUL" in status, status
    steps = wait_until(
        lambda: _lineage_artifacts(compose) if len(_lineage_artifacts(compose)) >= 4 else None,
        timeout_s=60,
        describe=compose.logs,
        what="the lineage recorder to store the fetcher's and parser's steps",
    )
    assert sorted(steps) == ["docs-fetcher", "docs-parser", "docs-parser", "docs-parser"]


def _lineage_artifacts(compose: Compose) -> list[str]:
    """The artifact name of every step in the lineage table (MiniStack's DynamoDB)."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{compose.env['PYLON_DYNAMODB_PORT']}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    items = dynamodb.scan(TableName="docs-lineage")["Items"]
    return [item["artifactName"]["S"] for item in items]

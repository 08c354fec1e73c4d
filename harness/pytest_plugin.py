"""Pytest fixtures for code that talks to AWS: an emulator, its environment, a session.

Loaded automatically through the `pytest11` entry point. This module only wires
fixtures and options; everything it does is callable without pytest from
`harness.emulators` and `harness.endpoints`.

    def test_queue_is_created(boto_session):
        sqs = boto_session.client("sqs")
        sqs.create_queue(QueueName="q")
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from harness.emulators.base import Emulator
from harness.emulators.external import ExternalEmulator
from harness.emulators.ministack import MiniStack
from harness.endpoints import AwsEndpoint, require_loopback

ENDPOINT_ENV_VAR = "PYLON_TEST_ENDPOINT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pylon", "Pylon emulated AWS")
    group.addoption(
        "--pylon-endpoint",
        metavar="URL",
        default=None,
        help=f"use this running LocalStack-compatible endpoint instead of starting "
        f"MiniStack (also ${ENDPOINT_ENV_VAR})",
    )
    group.addoption(
        "--pylon-allow-remote",
        action="store_true",
        default=False,
        help="allow --pylon-endpoint to be a host other than this machine",
    )


def _configured_emulator(config: pytest.Config) -> Emulator:
    """The emulator the options ask for: an external endpoint, else a fresh MiniStack."""
    endpoint_url = config.getoption("pylon_endpoint") or os.environ.get(ENDPOINT_ENV_VAR)
    if not endpoint_url:
        return MiniStack()
    if not config.getoption("pylon_allow_remote"):
        require_loopback(endpoint_url)
    return ExternalEmulator(endpoint_url)


@pytest.fixture(scope="session")
def pylon_emulator(pytestconfig: pytest.Config) -> Iterator[Emulator]:
    """One emulator for the whole session, started on first use and stopped at the end."""
    with _configured_emulator(pytestconfig) as emulator:
        yield emulator


@pytest.fixture
def aws_env(pylon_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    """A wiped emulator, and an environment in which every boto3 client goes there.

    Profiles, session tokens and per-service endpoint variables are removed for the
    test's duration, so nothing can reach a real AWS account.
    """
    pylon_emulator.reset()
    endpoint = pylon_emulator.endpoint
    remove, assign = endpoint.changes(os.environ)
    for name in remove:
        monkeypatch.delenv(name)
    for name, value in assign.items():
        monkeypatch.setenv(name, value)
    return endpoint


@pytest.fixture
def boto_session(aws_env: AwsEndpoint) -> boto3.session.Session:
    """A boto3 session with the dummy credentials; its clients reach the emulator."""
    return boto3.session.Session(
        aws_access_key_id=aws_env.access_key_id,
        aws_secret_access_key=aws_env.secret_access_key,
        region_name=aws_env.region,
    )

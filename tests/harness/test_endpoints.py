"""Pure logic of harness.endpoints: which URLs count as local, which env reaches them.

Nothing here sends traffic: remote URLs are only parsed, never contacted.
"""

from __future__ import annotations

import os

import pytest

from harness.endpoints import AwsEndpoint, conflicting_aws_variables, require_loopback
from harness.errors import EmulatorError, HarnessError
from pylon.errors import PylonError


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4566",
        "http://127.42.0.9:1234/",
        "http://localhost:4566",
        "https://LOCALHOST:4566",
        "http://[::1]:4566",
    ],
)
def test_loopback_endpoints_are_accepted(url: str) -> None:
    assert require_loopback(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:4566",
        "https://sqs.us-east-1.amazonaws.com",
        "http://192.168.1.20:4566",
        "http://localstack:4566",
        "http://[2001:db8::1]:4566",
    ],
)
def test_remote_endpoints_are_refused_naming_the_opt_out(url: str) -> None:
    with pytest.raises(EmulatorError, match="--pylon-allow-remote"):
        require_loopback(url)


@pytest.mark.parametrize("url", ["127.0.0.1:4566", "ftp://127.0.0.1/", "http://", ""])
def test_malformed_endpoints_are_refused(url: str) -> None:
    with pytest.raises(EmulatorError, match="http"):
        require_loopback(url)


def test_emulator_error_is_a_pylon_error() -> None:
    assert issubclass(EmulatorError, HarnessError)
    assert issubclass(HarnessError, PylonError)


def test_env_selects_endpoint_region_and_dummy_credentials() -> None:
    env = AwsEndpoint("http://127.0.0.1:4566", region="eu-west-1").env()

    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert "AWS_PROFILE" not in env
    assert "AWS_SESSION_TOKEN" not in env


def test_profiles_tokens_and_service_endpoints_are_conflicting() -> None:
    environ = {
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "real",
        "AWS_ENDPOINT_URL_SQS": "https://sqs.us-east-1.amazonaws.com",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        "AWS_REGION": "eu-west-1",
        "PATH": "/usr/bin",
    }

    assert conflicting_aws_variables(environ) == [
        "AWS_ENDPOINT_URL_SQS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
    ]


def test_overlay_keeps_unrelated_variables_and_bypasses_proxies_for_loopback() -> None:
    base = {"PATH": "/usr/bin", "AWS_PROFILE": "prod", "NO_PROXY": "internal.example"}

    env = AwsEndpoint("http://127.0.0.1:4566").overlay(base)

    assert env["PATH"] == "/usr/bin"
    assert "AWS_PROFILE" not in env
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["NO_PROXY"] == env["no_proxy"] == "internal.example,127.0.0.1,localhost,::1"

"""Where AWS clients are pointed: an emulator endpoint and the environment that selects it.

Pylon's runtime never special-cases "local": boto3's own `AWS_ENDPOINT_URL` picks the
emulator. This module builds that environment, and strips everything that could route
a client to a real account instead (profiles, session tokens, per-service endpoint
overrides), so that a test can never touch AWS by accident.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple
from urllib.parse import urlsplit

from harness.errors import EmulatorError

# Variables that would make botocore ignore our endpoint or credentials, or reach for
# real ones: a profile (which also fails outright if it does not exist on this machine),
# temporary or role credentials, container/IMDS credential sources, and the switch that
# tells botocore to ignore AWS_ENDPOINT_URL altogether.
_CONFLICTING_VARIABLES = frozenset(
    {
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    }
)

# A per-service endpoint (AWS_ENDPOINT_URL_SQS, ...) beats the global AWS_ENDPOINT_URL.
_SERVICE_ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"

# A corporate HTTP(S)_PROXY cannot reach this machine's loopback, and would see the
# traffic if it could; botocore and urllib both honour NO_PROXY.
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class EnvChanges(NamedTuple):
    """What to remove from, and set in, an environment to reach only one endpoint."""

    remove: list[str]
    assign: dict[str, str]


@dataclass(frozen=True)
class AwsEndpoint:
    """An AWS-compatible endpoint (an emulator) and the region clients should use there.

    `service_endpoints` sends some services elsewhere (`(("dynamodb", url), ...)`), with
    boto3's own per-service variables (`AWS_ENDPOINT_URL_DYNAMODB`): how a LocalStack
    that cannot serve DynamoDB or Lambda offline is paired with MiniStack for those.
    """

    endpoint_url: str
    region: str = "us-east-1"
    service_endpoints: tuple[tuple[str, str], ...] = ()

    # Emulators accept any credentials; fixed dummies make it obvious in logs that no
    # real key is in play.
    access_key_id: ClassVar[str] = "test"
    secret_access_key: ClassVar[str] = "test"

    def env(self) -> dict[str, str]:
        """Environment variables that point any boto3 client at this endpoint.

        The shared config and credentials files are replaced by the null device so that
        nothing in the developer's `~/.aws` (a profile, a credential_process, an endpoint)
        applies, and the instance-metadata lookup is disabled so botocore never probes
        the network for credentials.
        """
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            **{
                f"{_SERVICE_ENDPOINT_PREFIX}{service.upper()}": url
                for service, url in self.service_endpoints
            },
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def url_for(self, service: str) -> str:
        """The URL a client of `service` (boto3's name, e.g. "lambda") must use."""
        return dict(self.service_endpoints).get(service, self.endpoint_url)

    def changes(self, base: Mapping[str, str]) -> EnvChanges:
        """The edits that make `base` reach this endpoint and nothing else.

        Kept as a list of edits rather than a new mapping so that pytest's monkeypatch
        can apply, and later undo, each one.
        """
        return EnvChanges(
            remove=conflicting_aws_variables(base),
            assign=self.env() | _no_proxy_for_loopback(base),
        )

    def overlay(self, base: Mapping[str, str]) -> dict[str, str]:
        """A copy of `base` (say, os.environ for a subprocess) that can only reach here."""
        remove, assign = self.changes(base)
        kept = {name: value for name, value in base.items() if name not in remove}
        return kept | assign


def conflicting_aws_variables(environ: Mapping[str, str]) -> list[str]:
    """Names in `environ` that could send a client somewhere other than the endpoint."""
    return sorted(
        name
        for name in environ
        if name in _CONFLICTING_VARIABLES or name.startswith(_SERVICE_ENDPOINT_PREFIX)
    )


def _no_proxy_for_loopback(environ: Mapping[str, str]) -> dict[str, str]:
    """NO_PROXY/no_proxy extended with the loopback hosts, keeping what was there."""
    current = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
    hosts = [host.strip() for host in current.split(",") if host.strip()]
    merged = ",".join(hosts + [host for host in _LOOPBACK_HOSTS if host not in hosts])
    return {"NO_PROXY": merged, "no_proxy": merged}


def is_loopback(endpoint_url: str) -> bool:
    """True when the URL's host is this machine (127.0.0.0/8, ::1 or `localhost`).

    Names other than `localhost` count as remote: resolving them would already be
    network traffic, and a name can resolve anywhere.
    """
    host = urlsplit(endpoint_url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_loopback(endpoint_url: str) -> str:
    """Return `endpoint_url` if it is on this machine, else raise EmulatorError.

    Tests create and delete queues, topics and buckets freely; pointed at a real
    account or a shared host they would do damage, so anything not local is refused
    unless the caller explicitly opts out of this check.
    """
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EmulatorError(
            f"endpoint {endpoint_url!r} is not an http(s) URL with a host; "
            "give one like http://127.0.0.1:4566"
        )
    if not is_loopback(endpoint_url):
        raise EmulatorError(
            f"endpoint {endpoint_url!r} is not on this machine (host {parts.hostname!r} "
            "is not 127.0.0.0/8, ::1 or localhost); Pylon refuses to touch it by default. "
            "Use a local emulator, or allow remote endpoints explicitly "
            "(CLI: --allow-remote; pytest: --pylon-allow-remote)"
        )
    return endpoint_url

"""Replaying recorded provisioning calls against another endpoint: the body of the
LocalStack init hooks `pylon provision --init-hook` writes.

This module is copied whole into each hook, which runs inside LocalStack's own Python
(`/etc/localstack/init/ready.d/*.py`): it imports only the standard library and boto3.

Identifiers an emulator makes up (queue URLs with its host and port, subscription ARNs
with a random id) differ between the recording and the replay, so each response is
compared with the one recorded and every value that changed is replaced in the calls
that follow. `{services.NAME.port}` in a value becomes the port of that spec service.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

_SERVICE_PORT = re.compile(r"\{services\.([A-Za-z0-9_-]+)\.port\}")


def replay(
    calls: list[dict[str, Any]],
    endpoint_for: Callable[[str], str],
    service_ports: Mapping[str, int],
    region: str = "us-east-1",
) -> int:
    """Make each call in order; return how many were made."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )
    clients: dict[str, Any] = {}
    changed: dict[str, str] = {}
    for call in calls:
        service = call["service"]
        if service not in clients:
            clients[service] = session.client(service, endpoint_url=endpoint_for(service))
        params = _rewrite(call["params"], changed, service_ports)
        try:
            response = getattr(clients[service], call["method"])(**params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != call.get("error"):
                raise
            continue
        _learn(call.get("response"), response, changed)
    return len(calls)


def endpoints_from_environment(default: str) -> Callable[[str], str]:
    """`PYLON_HOOK_ENDPOINT_<SERVICE>` where set (e.g. DynamoDB on MiniStack), else `default`."""

    def endpoint_for(service: str) -> str:
        return os.environ.get(f"PYLON_HOOK_ENDPOINT_{service.upper()}") or default

    return endpoint_for


def ports_from_environment(defaults: Mapping[str, int]) -> dict[str, int]:
    """`PYLON_SERVICE_PORT_<NAME>` (dashes as underscores) where set, else the default."""
    return {
        name: int(os.environ.get(f"PYLON_SERVICE_PORT_{name.upper().replace('-', '_')}", port))
        for name, port in defaults.items()
    }


def _rewrite(value: Any, changed: Mapping[str, str], ports: Mapping[str, int]) -> Any:
    if isinstance(value, str):
        for old in sorted(changed, key=len, reverse=True):
            value = value.replace(old, changed[old])
        return _SERVICE_PORT.sub(lambda match: str(ports[match.group(1)]), value)
    if isinstance(value, dict):
        return {key: _rewrite(item, changed, ports) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, changed, ports) for item in value]
    return value


def _learn(recorded: Any, actual: Any, changed: dict[str, str]) -> None:
    """Every string of the recorded response that came back different this time."""
    if isinstance(recorded, str) and isinstance(actual, str):
        if recorded != actual:
            changed[recorded] = actual
    elif isinstance(recorded, dict) and isinstance(actual, dict):
        for key, item in recorded.items():
            _learn(item, actual.get(key), changed)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for old, new in zip(recorded, actual, strict=False):
            _learn(old, new, changed)

"""boto3 clients, created one way for the whole runtime.

Endpoints come from boto3's own `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`, so
the same code reaches AWS or an emulator without a "local" switch.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling and transient 5xx, which AWS asks
# clients to do; five attempts ride out an emulator restart without hiding real outages.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=70)


def new_client(service: str, session: boto3.session.Session | None = None) -> Any:
    """A client for `service` with Pylon's retry policy (typed by the callers' wrappers)."""
    return (session or boto3.session.Session()).client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]

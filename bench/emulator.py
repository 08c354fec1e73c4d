"""The emulator a benchmark measures against: one given by URL, or the embedded MiniStack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from harness.emulators.admin import wait_until_healthy
from harness.emulators.ministack import MiniStack
from harness.emulators.selection import apply_to_environment
from harness.endpoints import AwsEndpoint, require_loopback

# A given endpoint should already be up: fail fast with the health check's reason.
_GIVEN_ENDPOINT_DEADLINE_S = 5.0


@contextmanager
def emulator_endpoint(endpoint_url: str | None) -> Iterator[AwsEndpoint]:
    """`endpoint_url` (loopback only), else a MiniStack started for the block.

    This process's boto3 clients are pointed at it; give subprocesses
    `endpoint.overlay(os.environ)`.
    """
    if endpoint_url:
        endpoint = AwsEndpoint(require_loopback(endpoint_url))
        wait_until_healthy(endpoint.endpoint_url, _GIVEN_ENDPOINT_DEADLINE_S)
        apply_to_environment(endpoint)
        yield endpoint
        return
    with MiniStack() as emulator:
        apply_to_environment(emulator.endpoint)
        yield emulator.endpoint


def unique_name(prefix: str) -> str:
    """A resource name no earlier run used, so runs never see each other's messages."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"

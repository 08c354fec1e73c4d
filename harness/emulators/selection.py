"""Which endpoint a CLI command talks to: explicit, the background emulator, or a new one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from harness.emulators import background
from harness.emulators.kinds import EmulatorKind, new_emulator
from harness.endpoints import AwsEndpoint, require_loopback
from harness.errors import EmulatorError

ENDPOINT_ENV_VAR = "PYLON_ENDPOINT"


def existing_endpoint(explicit: str | None, allow_remote: bool = False) -> AwsEndpoint | None:
    """`--endpoint`, else $PYLON_ENDPOINT, else the `pylon emulator start` one, else None."""
    url = explicit or os.environ.get(ENDPOINT_ENV_VAR)
    if url:
        if not allow_remote:
            require_loopback(url)
        return AwsEndpoint(url)
    state = background.running()
    return AwsEndpoint(state.endpoint_url) if state else None


def require_endpoint(explicit: str | None, allow_remote: bool = False) -> AwsEndpoint:
    endpoint = existing_endpoint(explicit, allow_remote)
    if endpoint is None:
        raise EmulatorError(
            "no emulator is running: start one with `pylon emulator start`, or pass --endpoint URL"
        )
    return endpoint


@contextmanager
def endpoint_or_embedded(
    explicit: str | None,
    allow_remote: bool = False,
    kind: EmulatorKind = EmulatorKind.EMBEDDED,
) -> Iterator[AwsEndpoint]:
    """An existing endpoint, or a new emulator of `kind` for the duration of the block."""
    endpoint = existing_endpoint(explicit, allow_remote)
    if endpoint is not None:
        yield endpoint
        return
    with new_emulator(kind) as emulator:
        yield emulator.endpoint


def apply_to_environment(endpoint: AwsEndpoint) -> None:
    """Point this process's boto3 clients at `endpoint` (CLI processes only)."""
    remove, assign = endpoint.changes(os.environ)
    for name in remove:
        os.environ.pop(name, None)
    os.environ.update(assign)

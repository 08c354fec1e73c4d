"""The emulator contract: something that serves AWS APIs on a local endpoint.

The harness, the pytest plugin and the CLI depend only on this, so MiniStack (the
default, a subprocess), LocalStack (a container) and an endpoint somebody else runs
are interchangeable.
"""

from __future__ import annotations

from abc import abstractmethod

from harness.endpoints import AwsEndpoint
from harness.lifecycle import Running


class Emulator(Running):
    """An AWS emulator with a lifecycle (start/stop) and a cheap state wipe (reset).

    Use it as a context manager to make sure it is stopped:

        with MiniStack() as emulator:
            boto3.client("sqs", endpoint_url=emulator.endpoint_url)
    """

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region

    @abstractmethod
    def start(self) -> None:
        """Start serving and return once the endpoint answers health checks."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and release everything start() took; safe to call twice."""

    @abstractmethod
    def reset(self) -> None:
        """Wipe all state (queues, topics, buckets...) without a restart."""

    @abstractmethod
    def is_running(self) -> bool:
        """True between a successful start() and stop()."""

    @property
    @abstractmethod
    def endpoint_url(self) -> str:
        """The base URL clients send requests to, e.g. http://127.0.0.1:45123."""

    @property
    def endpoint(self) -> AwsEndpoint:
        """The endpoint with its region: what `aws_env` and subprocesses are given."""
        return AwsEndpoint(self.endpoint_url, self.region)

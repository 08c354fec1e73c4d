"""Free TCP ports on the loopback interface, for emulators, services and test servers."""

from __future__ import annotations

import socket

LOOPBACK_HOST = "127.0.0.1"


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        return int(probe.getsockname()[1])

"""Baseline processes for the memory benchmark: as little as a process of that kind holds.

    python -m bench.idle_process bare      # the interpreter alone
    python -m bench.idle_process boto3     # plus boto3 and one SQS client

Each prints `ready` once set up and then waits, doing nothing, until SIGTERM.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

READY = "ready"


def main(argv: Sequence[str] | None = None) -> int:
    kind = (argv if argv is not None else sys.argv[1:])[0]
    held: list[object] = []  # kept alive while idle, as a component keeps its clients
    if kind == "boto3":
        import boto3

        held.append(boto3.client("sqs"))
    elif kind != "bare":
        print(f"unknown baseline {kind!r}: expected bare or boto3", file=sys.stderr)
        return 2
    print(READY, flush=True)
    signal.sigwait({signal.SIGTERM})
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    sys.exit(main())

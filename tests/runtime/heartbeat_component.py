"""A component run in a fresh interpreter by tests/runtime/test_heartbeats.py.

    python tests/runtime/heartbeat_component.py once 2      # a script: runOnce twice
    python -m tests.runtime.heartbeat_component forever     # runForever until SIGTERM
    python -m tests.runtime.heartbeat_component lambda 3    # lambda_handler, cold then warm

`--lambda-root` first installs a root handler the way the Lambda runtime does (a handler
of its own, the root level left at WARNING), before Pylon configures anything. Lambda
events are read as JSON from the files named by $HEARTBEAT_EVENTS (one per invocation).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import pylon
from pylon import BaseMessage, PylonResult
from pylon.config import ComponentConfig


@pylon.PipelineComponent
def echo(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    return pylon.result([message], {"task": "echo"})


class _Context:
    aws_request_id = "heartbeat-test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _install_lambda_like_root() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[LAMBDA] %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)


def _lambda_events() -> list[dict[str, Any]]:
    paths = os.environ["HEARTBEAT_EVENTS"].split(os.pathsep)
    return [json.loads(open(path).read()) for path in paths]


def main(argv: list[str]) -> None:
    if "--lambda-root" in argv:
        argv.remove("--lambda-root")
        _install_lambda_like_root()
    mode, times = argv[0], int(argv[1]) if len(argv) > 1 else 1
    if mode == "once":
        for _ in range(times):
            echo.runOnce()
    elif mode == "forever":
        echo.runForever()
    elif mode == "lambda":
        for event in _lambda_events()[:times]:
            response = echo.lambda_handler(event, _Context())
            print(json.dumps(response), flush=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

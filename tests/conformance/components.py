"""Components the conformance suite runs on every backend (as threads of the test)."""

from __future__ import annotations

import json
import time

import pylon
from pylon import BaseMessage, ObjectType, PylonResult
from pylon.config import ComponentConfig

POISON = "poison"


@pylon.PipelineComponent
def relay(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    """Passes the message on, body and attributes unchanged; "poison" always fails."""
    assert message is not None
    if message.body == POISON:
        raise ValueError("this message is poison")
    return pylon.result([message], {"task": "relay"})


@pylon.PipelineComponent
def slow_relay(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    """Takes SLOW_SECONDS per message: longer than the queue's visibility timeout."""
    assert message is not None
    time.sleep(float(config["SLOW_SECONDS"]))
    return pylon.result([message], {"task": "slow"})


@pylon.PipelineComponent
def report_config(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    """Answers with the config values it was given (read from SSM by the runtime)."""
    assert message is not None
    values = {key: config[key] for key in ("GREETING", "API_TOKEN")}
    reply = BaseMessage(body=json.dumps(values), objectType=ObjectType.RAW_CONTENT)
    return pylon.result([reply], {"task": "config"})

"""The two components of the fault-injection suite, run as real processes.

Inputs are numbered (`rawContent`, body "17"); `relay` passes each number on and `finish`
emits the final record, carrying the relay's ingestionId as `upstreamIngestionId` so
duplicates can be traced to the stage that made them. Both misbehave as their config's
`FAULTS` entry says: every attempt fails with probability `failure_rate` (a seeded, so
reproducible, draw per stage, number and attempt), `poison` numbers always fail, `slow`
numbers take `slow_seconds` on their first attempt (longer than the lease), `hang`
numbers never finish their first attempt, and every message takes `work_seconds`.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pylon
from pylon import BaseMessage, PylonResult
from pylon.config import ComponentConfig


class InjectedFaultError(RuntimeError):
    """A failure the suite causes on purpose (the task's own bug, as far as Pylon knows)."""


def misbehave(stage: str, message: BaseMessage, config: ComponentConfig) -> int:
    """Apply this stage's faults to `message`; return its number."""
    faults: dict[str, Any] = config["FAULTS"]
    number = int(str(message.body))
    attempt = message.receiveCount
    if number in faults["poison"].get(stage, []):
        raise ValueError(f"poison number {number} at {stage}")
    if attempt == 1 and number in faults["hang"].get(stage, []):
        time.sleep(3600)
    if attempt == 1 and number in faults["slow"].get(stage, []):
        time.sleep(faults["slow_seconds"])
    draw = random.Random(f"{faults['seed']}:{stage}:{number}:{attempt}").random()
    if draw < faults["failure_rate"]:
        raise InjectedFaultError(f"injected fault at {stage}, number {number}, attempt {attempt}")
    time.sleep(faults["work_seconds"])
    return number


@pylon.PipelineComponent
def relay(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    number = misbehave("relay", message, config)
    return pylon.result([BaseMessage(body=str(number))], {"stage": "relay"})


@pylon.PipelineComponent
def finish(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    number = misbehave("finish", message, config)
    upstream = {"upstreamIngestionId": message.ingestionId or ""}
    return pylon.result([BaseMessage(body=str(number), attributes=upstream)], {"stage": "finish"})

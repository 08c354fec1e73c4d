"""Components of the FIFO tests: each stage passes a reading on, failing at random.

`FAILURE_RATE` (0..1) in a component's config makes its task raise on that share of
attempts; `FAIL_SEQ` makes it fail every attempt at that sequence number (a poison
message in one group).
"""

from __future__ import annotations

import random

import pylon
from pylon import BaseMessage, ObjectType
from pylon.config import ComponentConfig


def _pass_on(message: BaseMessage | None, config: ComponentConfig) -> BaseMessage:
    assert message is not None
    if random.random() < float(config.get("FAILURE_RATE", 0)):
        raise RuntimeError(f"injected failure at seq {message.attributes.get('seq')}")
    if message.attributes.get("seq") == str(config.get("FAIL_SEQ", "")):
        raise RuntimeError(f"seq {message.attributes['seq']} always fails")
    return BaseMessage(
        body=message.body, objectType=ObjectType.RAW_CONTENT, attributes=dict(message.attributes)
    )


@pylon.PipelineComponent
def inherit_group(message: BaseMessage | None, config: ComponentConfig) -> BaseMessage:
    """Its outputs keep the group of their input (the default)."""
    return _pass_on(message, config)


@pylon.PipelineComponent(message_group=lambda message: message.attributes["station"])
def group_by_station(message: BaseMessage | None, config: ComponentConfig) -> BaseMessage:
    """Its outputs are grouped by the `station` attribute (a decorator argument)."""
    return _pass_on(message, config)


@pylon.PipelineComponent(message_group=lambda message: "x" * 129)
def overlong_group(message: BaseMessage | None, config: ComponentConfig) -> BaseMessage:
    """Chooses a group id AWS would refuse: every message fails, saying why."""
    return _pass_on(message, config)

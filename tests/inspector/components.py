"""Components of the inspector tests' pipeline (run in-process, as threads).

`shout` fails on a body containing "fail" until the test heals it (`HEALTH.healed`), so
a dead letter can be made, then redriven and seen processed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pylon
from pylon import BaseMessage, PylonResult
from pylon.config import ComponentConfig


@dataclass
class Health:
    healed: bool = False


HEALTH = Health()


@pylon.PipelineComponent
def shout(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    """Upper-cases the body."""
    assert message is not None
    text = str(message.body)
    if "fail" in text and not HEALTH.healed:
        raise ValueError(f"shout cannot take {text[:40]!r}")
    message.body = text.upper()
    return pylon.result([message], {"shouted": len(text)})


@pylon.SinkComponent
def keep(message: BaseMessage | None, config: ComponentConfig) -> None:
    """Takes everything (the journey's last hop)."""

"""The two-stage pipeline `bench.ui` runs while pages of the inspector are open.

Importable by the component processes (nothing beyond `pylon`).
"""

from __future__ import annotations

import pylon
from pylon import BaseMessage, PylonResult
from pylon.config import ComponentConfig


@pylon.PipelineComponent
def shout(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    message.body = str(message.body).upper()
    return pylon.result([message])


@pylon.SinkComponent
def keep(message: BaseMessage | None, config: ComponentConfig) -> None:
    """Takes everything."""

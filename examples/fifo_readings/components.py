"""A FIFO pipeline: station readings, in order per station, turned into changes.

`emitReadings` (a source) publishes the next reading of each station on every run, in the
station's message group; `computeChange` works out each reading's change from the
station's previous one, which is only right when a station's readings arrive in order;
`archiveChange` logs them. Run it with `pylon up examples/fifo_readings/pipeline.yaml`.
"""

from __future__ import annotations

import json
import logging
import math

import pylon
from pylon import BaseMessage, ObjectType
from pylon.config import ComponentConfig

logger = logging.getLogger(__name__)

_next_seq: dict[str, int] = {}
_previous: dict[str, float] = {}


def level(station: str, seq: int) -> float:
    """A made-up water level: a slow wave, different per station."""
    return round(10 + 3 * math.sin(seq / 5 + len(station)), 3)


@pylon.SourceComponent(message_group=lambda message: message.attributes["station"])
def emitReadings(message: BaseMessage | None, config: ComponentConfig) -> list[BaseMessage]:
    """One reading per station per run; each station is its own message group."""
    readings = []
    for station in str(config.get("STATIONS", "north,south")).split(","):
        seq = _next_seq.get(station, 0)
        _next_seq[station] = seq + 1
        body = {"station": station, "seq": seq, "level": level(station, seq)}
        readings.append(
            BaseMessage(
                body=json.dumps(body),
                objectType=ObjectType.RAW_CONTENT,
                payloadMimeType="application/json",
                attributes={"station": station, "seq": str(seq)},
            )
        )
    return readings


@pylon.PipelineComponent
def computeChange(message: BaseMessage | None, config: ComponentConfig) -> BaseMessage:
    """The change since the station's previous reading (its output keeps the input's group)."""
    assert message is not None
    reading = json.loads(str(message.body))
    station = reading["station"]
    previous = _previous.get(station)
    _previous[station] = reading["level"]
    change = None if previous is None else round(reading["level"] - previous, 3)
    return BaseMessage(
        body=json.dumps(reading | {"change": change}),
        objectType=ObjectType.RAW_CONTENT,
        payloadMimeType="application/json",
        attributes=dict(message.attributes),
    )


@pylon.SinkComponent
def archiveChange(message: BaseMessage | None, config: ComponentConfig) -> None:
    assert message is not None
    logger.info("archived %s", message.body)

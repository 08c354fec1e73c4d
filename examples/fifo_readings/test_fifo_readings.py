"""The README's FIFO example runs: every station's changes arrive in order, each computed
from the station's previous reading."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

from examples.fifo_readings.components import level
from harness.pipeline.local_pipeline import LocalPipeline
from pylon import BaseMessage, ObjectType

SPEC = Path(__file__).with_name("pipeline.yaml")


def seq(message: BaseMessage) -> int:
    return int(message.attributes["seq"])


def test_changes_arrive_in_order_per_station(pylon_pipeline: Callable[..., LocalPipeline]) -> None:
    pipeline = pylon_pipeline(SPEC)
    changes = pipeline.recorder("changes.fifo")

    changes.wait_for(9, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=60)

    groups = changes.assert_order_per_group(seq, ObjectType.RAW_CONTENT)
    assert sorted(groups) == ["east", "north", "south"]
    for station, messages in groups.items():
        bodies = [json.loads(str(m.body)) for m in messages]
        assert [b["seq"] for b in bodies] == list(range(len(bodies)))
        assert bodies[0]["change"] is None
        for earlier, later in itertools.pairwise(bodies):
            assert later["change"] == round(level(station, later["seq"]) - earlier["level"], 3)

"""Source (no input) and sink (no output, no lineage) components against the emulator."""

from __future__ import annotations

import pylon
from pylon import BaseMessage, DataAsset, IngestionStep, ObjectType
from pylon.config import ComponentKind
from tests.conftest import Wiring


@pylon.SourceComponent
def source(message, config):  # type: ignore[no-untyped-def]
    assert message is None
    asset = DataAsset("weather.readings", "NL", [{"station": "A", "t": 4.5}])
    return pylon.result(
        [BaseMessage(body=asset, objectType=ObjectType.DATA_ASSET)], {"stations": 1}
    )


def test_source_publishes_its_output_and_a_root_ingestion_step(wiring: Wiring) -> None:
    source.configure(wiring.config(ComponentKind.SOURCE))

    ingestion_id = source.runOnce()

    published = {m.objectType: m for m in wiring.collect(2)}
    asset = published[ObjectType.DATA_ASSET]
    step = published[ObjectType.INGESTION_STEP].body
    assert isinstance(step, IngestionStep) and isinstance(asset.body, DataAsset)
    assert step.ingestionId == ingestion_id == asset.ingestionId
    assert step.parentIngestionId is None
    assert step.metadata == {"stations": 1}
    assert asset.body.data == [{"station": "A", "t": 4.5, "ingestionId": ingestion_id}]
    assert asset.dataAssetName == "weather.readings"


def test_sink_consumes_and_deletes_without_publishing(wiring: Wiring) -> None:
    seen: list[str] = []

    @pylon.SinkComponent
    def sink(message, config):  # type: ignore[no-untyped-def]
        seen.append(message.body)

    sink.configure(wiring.config(ComponentKind.SINK))
    for text in ("a", "b", "c"):
        wiring.send(BaseMessage(body=text))

    while len(seen) < 3:
        assert sink.runOnce().failed == []

    assert sorted(seen) == ["a", "b", "c"]
    assert wiring.visible_input_count() == 0
    # Nothing may arrive on the output topic: a sink records no ingestion step.
    assert wiring.observer.receive(10, wait_seconds=1) == []


def test_source_lambda_handler_runs_once(wiring: Wiring) -> None:
    source.configure(wiring.config(ComponentKind.SOURCE))

    response = source.lambda_handler({"source": "aws.events"}, None)

    assert response["ingestionId"]
    assert {m.objectType for m in wiring.collect(2)} == {
        ObjectType.DATA_ASSET,
        ObjectType.INGESTION_STEP,
    }

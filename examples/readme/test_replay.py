"""The README's replay example: a captured file, replayed into a local pipeline."""

from harness.capture.replay import ReplayFilter
from pylon import ObjectType


def test_captured_greetings_get_replies(pylon_pipeline):  # type: ignore[no-untyped-def]
    pipeline = pylon_pipeline("examples/readme/hello.yaml")

    report = pipeline.replay(
        "examples/readme/greetings.capture.jsonl",
        topic="greetings",
        replay_filter=ReplayFilter(object_types={"rawContent"}),
    )

    assert (report.sent, report.filtered_out) == (2, 1)
    replies = pipeline.recorder("replies").wait_for(
        2, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert {r.attributes["channel"] for r in replies} == {"web", "mobile"}
    steps = pipeline.ingestion_steps()
    parents = {steps[r.ingestionId].parentIngestionId for r in replies}
    assert parents == {"5d0c7f55-3f8e-5a8e-b2c4-1f0e9a7d6c21"}

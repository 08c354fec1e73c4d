"""The README's lineage example: every step lands in the lineage store, chained to its root."""

from pylon import BaseMessage, ObjectType


def test_echo_descends_from_hello(pylon_pipeline):  # type: ignore[no-untyped-def]
    pipeline = pylon_pipeline("examples/readme/lineage.yaml")

    pipeline.publish("greetings", BaseMessage(body="hi"))

    (echo,) = pipeline.recorder("echoes").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    chain = pipeline.lineage().wait_for_chain(echo.ingestionId)
    assert chain.artifact_names == ["hello", "echo"]
    assert chain.steps[0].artifactVersion == "2.1.0"

"""The README's test example: the fixtures a user's project gets from `pip install`."""

from pylon import BaseMessage, ObjectType


def test_hello_replies(pylon_pipeline):  # type: ignore[no-untyped-def]
    pipeline = pylon_pipeline("examples/readme/hello.yaml")

    pipeline.publish("greetings", BaseMessage(body="hi", ingestionId="root-1"))

    (reply,) = pipeline.recorder("replies").wait_for(
        1, lambda m: m.objectType is ObjectType.RAW_CONTENT
    )
    assert reply.body == "Hello pylon!"
    step = pipeline.ingestion_steps()[reply.ingestionId]
    assert step.parentIngestionId == "root-1"
    assert step.metadata == {"task": "example transform task"}

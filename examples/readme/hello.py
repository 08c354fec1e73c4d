"""The README's first example: DESIGN.md's user code, unchanged."""

import pylon


@pylon.PipelineComponent
def pipelineTask(message, config):  # type: ignore[no-untyped-def]
    message.body = "Hello pylon!"
    return pylon.result([message], {"task": "example transform task"})


def lambda_entrypoint(event, context):  # type: ignore[no-untyped-def]
    return pipelineTask.lambda_handler(event, context)


if __name__ == "__main__":
    pipelineTask.runForever()

"""Pylon components that meet extended-client applications (tests/interop).

`digest` answers every input with the size and SHA-256 of the payload it was handed, so a
test can tell a resolved payload from a pointer; `enlarge` answers an input "N" with
`large_body(N)`, which is offloaded to S3 when over SNS's limit.
"""

from __future__ import annotations

import json

import pylon
from pylon import BaseMessage, ObjectType, PylonResult
from pylon.config import ComponentConfig
from tests.interop.extended_client_peer import digest, large_body


@pylon.PipelineComponent
def digest_payload(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    reply = BaseMessage(
        body=json.dumps(digest(str(message.body))), objectType=ObjectType.RAW_CONTENT
    )
    return pylon.result([reply], {"task": "digest"})


@pylon.PipelineComponent
def enlarge(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    reply = BaseMessage(body=large_body(int(str(message.body))), objectType=ObjectType.RAW_CONTENT)
    return pylon.result([reply], {"task": "enlarge"})


if __name__ == "__main__":
    import sys

    {"digest": digest_payload, "enlarge": enlarge}[sys.argv[1]].runForever()

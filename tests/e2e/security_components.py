"""The component of test_security: a careless task that does everything a task should not
with secrets (logs its config, the credential, the message; fails with a secret in the
error), so the test can show none of it reaches the logs in clear."""

from __future__ import annotations

import logging

import pylon
from pylon import BaseMessage, ObjectType, PylonResult
from pylon.config import ComponentConfig

# A logger of the user's own, at WARNING so it is printed whatever LOG_LEVEL says.
logger = logging.getLogger("careless.task")


@pylon.PipelineComponent
def careless(message: BaseMessage | None, config: ComponentConfig) -> PylonResult:
    assert message is not None
    logger.warning("my config: %s", dict(config))
    logger.warning("connecting with password %s", config["DB_PASSWORD"])
    logger.warning("got %r", message)
    if message.objectType is ObjectType.RAW_CONTENT and message.body == "fail":
        raise ConnectionError(f"login refused for token {config['API_TOKEN']}")
    return pylon.result([message], {"task": "careless"})

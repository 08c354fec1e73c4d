"""Checking that a task received the kind of message body it was subscribed for."""

from __future__ import annotations

from typing import TypeVar

import pylon
from pylon import BaseMessage, ObjectType

Body = TypeVar("Body")


def require_body(
    message: BaseMessage | None, body_type: type[Body], object_type: ObjectType, task: str
) -> Body:
    """The message body as `body_type`, or a TaskError saying how to subscribe correctly."""
    if message is None or not isinstance(message.body, body_type):
        got = "no message" if message is None else f"objectType={message.objectType.value}"
        raise pylon.TaskError(
            f"{task} needs a {object_type.value} message, got {got}; "
            f"subscribe it with the filter {{objectType: [{object_type.value}]}}"
        )
    return message.body

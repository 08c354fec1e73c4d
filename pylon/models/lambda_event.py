"""`LambdaEvent`: an arbitrary Lambda invocation event carried as a message body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pylon.errors import ValidationError
from pylon.interfaces.serializing import JsonSerializable

T = TypeVar("T", bound="LambdaEvent")


@dataclass(repr=False)
class LambdaEvent(JsonSerializable):
    """The event itself is the JSON body (not wrapped), so it round-trips unchanged."""

    event: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.event)

    @classmethod
    def from_dict(cls: type[T], data: Any, where: str | None = None) -> T:
        if not isinstance(data, dict):
            raise ValidationError(where or cls.__name__, "a Lambda event must be a JSON object")
        return cls(event=dict(data))

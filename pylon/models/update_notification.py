"""`UpdateNotification`: tells consumers that a data asset changed, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pylon.errors import ValidationError
from pylon.interfaces.serializing import JsonSerializable


@dataclass(repr=False)
class UpdateNotification(JsonSerializable):
    """A data asset was created/updated/deleted at `location` (an s3:// URI)."""

    dataAssetName: str
    dataAssetCountry: str
    action: Literal["created", "updated", "deleted"]
    location: str
    updatedAt: str
    recordCount: int | None = None
    ingestionId: str | None = None

    def validate(self, where: str) -> None:
        if not self.location.startswith("s3://"):
            raise ValidationError(
                f"{where}.location", f"must be an s3:// URI, got {self.location!r}"
            )

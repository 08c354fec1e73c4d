"""`UrlResource`: a document to fetch, with optional credentials that are never logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlparse

from pylon.errors import ValidationError
from pylon.interfaces.serializing import JsonSerializable

_AUTH_FIELDS = {
    "basic": ("username", "password"),
    "bearer": ("token",),
    "header": ("name", "value"),
}


@dataclass(repr=False)
class UrlResource(JsonSerializable):
    """A URL a source found or a fetcher should fetch.

    `auth` is `{"type": "basic", "username", "password"}`, `{"type": "bearer", "token"}` or
    `{"type": "header", "name", "value"}`; it and `headers` are secret-bearing and masked.
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth", "headers"})

    url: str
    method: Literal["GET", "POST", "HEAD"] = "GET"
    name: str | None = None
    description: str | None = None
    mimeType: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: dict[str, Any] | None = None

    def validate(self, where: str) -> None:
        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https", "s3") or not parsed.netloc:
            raise ValidationError(
                f"{where}.url", f"must be an absolute http(s):// or s3:// URL, got {self.url!r}"
            )
        if self.auth is not None:
            _validate_auth(self.auth, f"{where}.auth")


def _validate_auth(auth: dict[str, Any], where: str) -> None:
    kind = auth.get("type")
    if kind not in _AUTH_FIELDS:
        raise ValidationError(f"{where}.type", f"must be one of {sorted(_AUTH_FIELDS)}")
    missing = [name for name in _AUTH_FIELDS[kind] if not isinstance(auth.get(name), str)]
    if missing:
        # Never echo the auth block itself: it holds credentials.
        raise ValidationError(where, f"{kind} auth needs string field(s) {missing}")

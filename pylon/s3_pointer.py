"""The AWS extended-client pointer body, in both its formats, and s3:// URIs.

An offloaded message's body is
`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":…,"s3Key":…}]`
with an `ExtendedPayloadSize` attribute, exactly as the Amazon SQS/SNS extended client
libraries write and read it. Their legacy format (Python's `use_legacy_attribute = True`,
older Java releases) names the class `com.amazon.sqs.javamessaging.MessageS3Pointer` and
the attribute `SQSLargePayloadSize`. Pylon reads both, and writes either
(PAYLOAD_POINTER_FORMAT), so components and extended-client applications exchange large
messages both ways.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from pylon.errors import PayloadError


class PointerFormat(StrEnum):
    EXTENDED = "extended"
    LEGACY = "legacy"


POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"
LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer"
POINTER_CLASSES = {
    PointerFormat.EXTENDED: POINTER_CLASS,
    PointerFormat.LEGACY: LEGACY_POINTER_CLASS,
}
# The Number attribute carrying the payload's size in bytes, by format.
SIZE_ATTRIBUTES = {
    PointerFormat.EXTENDED: "ExtendedPayloadSize",
    PointerFormat.LEGACY: "SQSLargePayloadSize",
}
_FORMATS_BY_CLASS = {name: fmt for fmt, name in POINTER_CLASSES.items()}


@dataclass(frozen=True)
class S3Location:
    """A bucket and key (or key prefix)."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str, where: str = "S3 path") -> S3Location:
        if not uri.startswith("s3://"):
            raise PayloadError(f"{where}: expected an s3://bucket/key URI, got {uri!r}")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise PayloadError(f"{where}: no bucket in {uri!r}")
        return cls(bucket, key)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, name: str) -> S3Location:
        """The object `name` under this prefix."""
        prefix = self.key if not self.key or self.key.endswith("/") else f"{self.key}/"
        return S3Location(self.bucket, f"{prefix}{name}")


def pointer_body(uri: str, pointer_format: PointerFormat = PointerFormat.EXTENDED) -> str:
    location = S3Location.parse(uri)
    return json.dumps(
        [
            POINTER_CLASSES[pointer_format],
            {"s3BucketName": location.bucket, "s3Key": location.key},
        ],
        separators=(",", ":"),
    )


def parse_pointer(body: str) -> S3Location | None:
    """The location a pointer body (either format) names, or None when it is not a pointer."""
    parsed = _parse(body)
    return parsed[1] if parsed else None


def pointer_format(body: str) -> PointerFormat | None:
    """Which format a pointer body is in, or None when the body is not a pointer."""
    parsed = _parse(body)
    return parsed[0] if parsed else None


def _parse(body: str) -> tuple[PointerFormat, S3Location] | None:
    if not body.startswith("[") or not any(name in body[:80] for name in _FORMATS_BY_CLASS):
        return None
    try:
        kind, target = json.loads(body)
        if kind not in _FORMATS_BY_CLASS:
            return None
        location = S3Location(str(target["s3BucketName"]), str(target["s3Key"]))
    except (ValueError, TypeError, KeyError, RecursionError):
        raise PayloadError(f"malformed extended-client S3 pointer body: {body[:200]!r}") from None
    return _FORMATS_BY_CLASS[kind], location

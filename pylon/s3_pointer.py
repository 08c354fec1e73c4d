"""The AWS extended-client pointer body, and s3:// URIs.

An offloaded message's body is
`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":…,"s3Key":…}]`,
exactly as the Amazon SQS/SNS extended client libraries write and read it, so Pylon
components and extended-client applications can exchange large messages both ways.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pylon.errors import PayloadError

POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"


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


def pointer_body(uri: str) -> str:
    location = S3Location.parse(uri)
    return json.dumps(
        [POINTER_CLASS, {"s3BucketName": location.bucket, "s3Key": location.key}],
        separators=(",", ":"),
    )


def parse_pointer(body: str) -> S3Location | None:
    """The location a pointer body names, or None when the body is not a pointer."""
    if not body.startswith("[") or POINTER_CLASS not in body[:80]:
        return None
    try:
        kind, target = json.loads(body)
        if kind != POINTER_CLASS:
            return None
        return S3Location(str(target["s3BucketName"]), str(target["s3Key"]))
    except (ValueError, TypeError, KeyError, RecursionError):
        raise PayloadError(f"malformed extended-client S3 pointer body: {body[:200]!r}") from None

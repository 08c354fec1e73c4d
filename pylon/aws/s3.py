"""S3 wrapper: text objects addressed by `s3://` URIs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from pylon.aws.clients import new_client
from pylon.errors import PayloadError
from pylon.s3_pointer import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Store:
    """Read and write whole objects (payloads, data-lake files)."""

    def __init__(self, client: S3Client | None = None) -> None:
        self._client: S3Client = client or new_client("s3")

    def get_bytes(self, location: S3Location) -> bytes:
        try:
            response = self._client.get_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise PayloadError(f"cannot read {location.uri}: {code}") from None
        return response["Body"].read()

    def get_text(self, location: S3Location) -> str:
        data = self.get_bytes(location)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(f"{location.uri} is not UTF-8 text ({exc})") from None

    def put_bytes(self, location: S3Location, data: bytes, content_type: str) -> None:
        try:
            self._client.put_object(
                Bucket=location.bucket, Key=location.key, Body=data, ContentType=content_type
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise PayloadError(f"cannot write {location.uri}: {code}") from None

    def put_text(self, location: S3Location, text: str, content_type: str = "text/plain") -> None:
        self.put_bytes(location, text.encode("utf-8"), content_type)

    def exists(self, location: S3Location) -> bool:
        try:
            self._client.head_object(Bucket=location.bucket, Key=location.key)
        except ClientError:
            return False
        return True

    def list_keys(self, prefix: S3Location) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

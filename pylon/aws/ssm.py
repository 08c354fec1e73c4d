"""SSM Parameter Store wrapper."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylon.aws.clients import new_client
from pylon.errors import ConfigError

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


class SsmParameters:
    """Read parameters, SecureStrings decrypted."""

    def __init__(self, client: SSMClient | None = None) -> None:
        self._client: SSMClient = client or new_client("ssm")

    def get(self, name: str) -> str:
        try:
            response = self._client.get_parameter(Name=name, WithDecryption=True)
        except self._client.exceptions.ParameterNotFound:
            raise ConfigError(
                f"SSM parameter {name!r} does not exist (region "
                f"{self._client.meta.region_name}, endpoint {self._client.meta.endpoint_url})"
            ) from None
        return response["Parameter"].get("Value", "")

    def put_string(self, name: str, value: str) -> None:
        self._client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    def put_secure_string(self, name: str, value: str) -> None:
        """Store encrypted (the account's default KMS key), as config with secrets should be."""
        self._client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

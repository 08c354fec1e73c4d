"""Lambda wrapper: invoke a function and get its JSON result or a clear error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pylon.aws.clients import new_client
from pylon.errors import PylonError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaInvocationError(PylonError):
    """The function ran and raised (Lambda's FunctionError)."""


class LambdaFunction:
    """One function, addressed by name or ARN."""

    def __init__(self, name: str, client: LambdaClient | None = None) -> None:
        self.name = name
        self._client: LambdaClient = client or new_client("lambda")

    def invoke(self, payload: dict[str, Any]) -> Any:
        """Invoke synchronously; return the decoded JSON result."""
        response = self._client.invoke(
            FunctionName=self.name, InvocationType="RequestResponse", Payload=json.dumps(payload)
        )
        body = response["Payload"].read().decode("utf-8")
        if response.get("FunctionError"):
            raise LambdaInvocationError(f"Lambda {self.name} failed: {body[:2000]}")
        return json.loads(body) if body else None

    def invoke_async(self, payload: dict[str, Any]) -> None:
        """Queue an asynchronous invocation (InvocationType=Event)."""
        self._client.invoke(
            FunctionName=self.name, InvocationType="Event", Payload=json.dumps(payload)
        )

"""DynamoDB wrapper: items as plain Python dicts, not attribute-value maps."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from pylon.aws.clients import new_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Serialise a dict; floats become Decimals because DynamoDB numbers are exact."""
    return {k: _serializer.serialize(_decimals(v)) for k, v in data.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Deserialise; numbers come back as int or float, not Decimal, so items stay JSON-able."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return type(value)(_plain(v) for v in value)
    return value


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


class DynamoTable:
    """One table, addressed by name."""

    def __init__(self, name: str, client: DynamoDBClient | None = None) -> None:
        self.name = name
        self._client: DynamoDBClient = client or new_client("dynamodb")

    def put(self, item: dict[str, Any]) -> None:
        self._client.put_item(TableName=self.name, Item=to_item(item))

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.name, Key=to_item(key), ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def query(self, key_name: str, key_value: Any) -> list[dict[str, Any]]:
        """All items whose partition key `key_name` equals `key_value`."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key_name},
            "ExpressionAttributeValues": {":v": _serializer.serialize(_decimals(key_value))},
        }
        while True:
            response = self._client.query(**kwargs)
            items.extend(from_item(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

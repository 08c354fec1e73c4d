"""RDS Data API wrapper: SQL over HTTPS, no drivers or VPC access needed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pylon.aws.clients import new_client

if TYPE_CHECKING:
    from mypy_boto3_rds_data import RDSDataServiceClient


def _parameter(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"name": name, "value": {"isNull": True}}
    if isinstance(value, bool):
        return {"name": name, "value": {"booleanValue": value}}
    if isinstance(value, int):
        return {"name": name, "value": {"longValue": value}}
    if isinstance(value, float):
        return {"name": name, "value": {"doubleValue": value}}
    return {"name": name, "value": {"stringValue": str(value)}}


def _field_value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if key in field:
            return field[key]
    return None


class RdsDatabase:
    """A database of an Aurora cluster reached through the Data API."""

    def __init__(
        self,
        resource_arn: str,
        secret_arn: str,
        database: str,
        client: RDSDataServiceClient | None = None,
    ) -> None:
        self.resource_arn = resource_arn
        self.secret_arn = secret_arn
        self.database = database
        self._client: RDSDataServiceClient = client or new_client("rds-data")

    def execute(self, sql: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one statement with named `:parameters`; return rows as dicts."""
        response = self._client.execute_statement(
            resourceArn=self.resource_arn,
            secretArn=self.secret_arn,
            database=self.database,
            sql=sql,
            parameters=[_parameter(k, v) for k, v in (parameters or {}).items()],  # type: ignore[misc]
            includeResultMetadata=True,
        )
        columns = [
            c.get("name", f"col{i}") for i, c in enumerate(response.get("columnMetadata", []))
        ]
        return [
            {
                (columns[i] if i < len(columns) else f"col{i}"): _field_value(dict(f))
                for i, f in enumerate(record)
            }
            for record in response.get("records", [])
        ]

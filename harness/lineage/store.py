"""`LineageStore`: ingestion steps in a DynamoDB table keyed by `ingestionId`.

The recorder sink writes every published step here, and `pylon lineage ID` reads the
chain back by following `parentIngestionId`, one consistent `GetItem` per step.

    store = LineageStore("docs-lineage")
    chain = store.chain("5f1c…")          # the record's step first, the root source last
    chain = store.wait_for_chain("5f1c…")  # in tests: until the recorder has caught up
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.errors import HarnessError
from harness.testing.lineage import LineageChain, LineageError, lineage_chain
from harness.testing.waiting import wait_until
from pylon.aws.clients import new_client
from pylon.aws.dynamodb import DynamoTable, from_item, to_item
from pylon.errors import ValidationError
from pylon.models.ingestion_step import IngestionStep

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY = "ingestionId"


class LineageStoreError(HarnessError):
    """The lineage table cannot be read or written, or holds something that is not a step."""


class LineageStore:
    """The ingestion steps of one pipeline, in the table its spec names (`lineage.table`)."""

    def __init__(self, table: str, session: boto3.session.Session | None = None) -> None:
        self.table = table
        self._client: DynamoDBClient = new_client("dynamodb", session)
        self._table = DynamoTable(table, self._client)

    def record(self, step: IngestionStep) -> bool:
        """Store `step` unless a step with its id is there already; True when it was new.

        Delivery is at-least-once and a reprocessed input yields the same ingestionId, so
        the first write wins: a redelivered step never overwrites the original timestamp.
        """
        try:
            self._client.put_item(
                TableName=self.table,
                Item=to_item(step.to_dict()),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": KEY},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        except (ClientError, BotoCoreError) as exc:
            raise self._error("writing step " + step.ingestionId, exc) from exc
        return True

    def get(self, ingestion_id: str) -> IngestionStep | None:
        try:
            item = self._table.get({KEY: ingestion_id})
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"reading step {ingestion_id}", exc) from exc
        return None if item is None else self._step(item)

    def steps(self) -> Iterator[IngestionStep]:
        """Every step in the table (a full scan: for exports and small local tables)."""
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            try:
                response = self._client.scan(**kwargs)
            except (ClientError, BotoCoreError) as exc:
                raise self._error("scanning", exc) from exc
            for item in response.get("Items", []):
                yield self._step(from_item(item))
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def chain(self, ingestion_id: str) -> LineageChain:
        """The steps from `ingestion_id` back to its root source; LineageError on a gap."""
        return lineage_chain(ingestion_id, self._ancestors(ingestion_id))

    def wait_for_chain(self, ingestion_id: str, timeout_s: float = 30) -> LineageChain:
        """`chain`, polled until the recorder has stored every step up to the root."""

        def complete() -> LineageChain | None:
            try:
                return self.chain(ingestion_id)
            except LineageError:
                return None  # a step is still on its way through the recorder's queue

        return wait_until(
            complete,
            timeout_s,
            describe=lambda: str(self._ancestors(ingestion_id).keys()),
            what=f"the lineage chain of {ingestion_id} in table {self.table!r}",
        )

    def _ancestors(self, ingestion_id: str) -> dict[str, IngestionStep]:
        """The steps along the parent links, fetched until a root, a gap or a cycle."""
        found: dict[str, IngestionStep] = {}
        current: str | None = ingestion_id
        while current is not None and current not in found:
            step = self.get(current)
            if step is None:
                break
            found[current] = step
            current = step.parentIngestionId
        return found

    def _step(self, item: dict[str, Any]) -> IngestionStep:
        where = f"lineage table {self.table!r} item {item.get(KEY)!r}"
        try:
            return IngestionStep.from_dict(item, where)
        except ValidationError as exc:
            raise LineageStoreError(f"{exc}; is this table a Pylon lineage table?") from None

    def _error(self, action: str, exc: Exception) -> LineageStoreError:
        return LineageStoreError(
            f"lineage table {self.table!r} at {self._client.meta.endpoint_url}: {action} failed "
            f"({exc}); is the pipeline provisioned with `lineage: {{table: {self.table}}}`?"
        )

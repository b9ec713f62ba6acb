"""The saga table: one item per saga holding the events seen and the view folded from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.items import plain

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource


class SagaChangedConcurrently(Exception):
    """Another event of the same saga was recorded between our read and our write."""


@dataclass(frozen=True)
class SagaRecord:
    """A saga's events by id, and the version that guards the next write."""

    events: dict[str, dict[str, Any]]
    version: int


@dataclass(frozen=True)
class SagaRepository:
    """Reads and writes saga items with optimistic locking on `version`."""

    dynamodb: DynamoDBServiceResource
    table_name: str

    def get(self, saga_id: str) -> SagaRecord:
        """The saga's record; an empty one at version 0 when nothing was seen yet."""
        item = (
            self.dynamodb.Table(self.table_name)
            .get_item(Key={"pk": f"SAGA#{saga_id}"}, ConsistentRead=True)
            .get("Item")
        )
        if not item:
            return SagaRecord(events={}, version=0)
        return SagaRecord(events=plain(item.get("events", {})), version=int(item["version"]))  # type: ignore[arg-type]

    def save(self, saga_id: str, record: SagaRecord, view: dict[str, Any], *, expected_version: int) -> None:
        """Write the new record and view if nobody wrote since `expected_version`.

        Raises
        ------
        SagaChangedConcurrently
            When the version moved on; read again and re-fold.
        """
        item: dict[str, Any] = {
            "pk": f"SAGA#{saga_id}",
            "events": record.events,
            "version": record.version,
            "view": view,
        }
        table = self.dynamodb.Table(self.table_name)
        try:
            if expected_version == 0:
                table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                table.put_item(
                    Item=item,
                    ConditionExpression="version = :expected",
                    ExpressionAttributeValues={":expected": expected_version},
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise SagaChangedConcurrently(saga_id) from exc
            raise

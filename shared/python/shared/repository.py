"""The base of every service's repository: consistent reads of its one table and transactions on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.items import plain
from shared.transaction import Transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource


@dataclass(frozen=True)
class TableRepository:
    """One service's table; subclasses add the reads and staged writes of their own items."""

    dynamodb: DynamoDBServiceResource
    table_name: str
    dedupe: bool = True

    def transaction(self) -> Transaction:
        """A new transaction on this table (with the inbox mark unless dedupe is off)."""
        return Transaction(self.table_name, dedupe=self.dedupe)

    def commit(self, tx: Transaction) -> None:
        """Commit `tx` (see `Transaction.commit` for what it raises)."""
        tx.commit(self.dynamodb)

    def _item(self, key: dict[str, str]) -> dict[str, Any] | None:
        """One item by key, read consistently, with plain Python numbers; None when absent."""
        item = self.dynamodb.Table(self.table_name).get_item(Key=key, ConsistentRead=True).get("Item")
        return plain(item) if item else None

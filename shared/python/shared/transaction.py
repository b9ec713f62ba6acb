"""One atomic write per step: the state change, the inbox mark of the event it reacted to, and the outbox.

A service never publishes directly. It adds the events it emits to the same `TransactWriteItems` as its
state change (transactional outbox); the table's stream relays them to the bus. The inbox mark makes the
consumer idempotent on the producer's `metadata.eventId`: a redelivered event fails that condition and
the whole step is skipped, so no effect happens twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.contracts.base import DomainEvent
from shared.contracts.envelope import Envelope
from shared.errors import DuplicateEvent, TransactionConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource

OUTBOX_PREFIX = "OUTBOX#"
INBOX_PREFIX = "INBOX#"
INBOX_LABEL = "inbox"
# Outbox and inbox records only need to outlive redelivery; TTL removes them on AWS.
RECORD_RETENTION_SECONDS = 7 * 24 * 60 * 60
# DynamoDB accepts at most 100 actions in one transaction.
MAX_TRANSACTION_ITEMS = 100


def outbox_item(envelope: Envelope[DomainEvent]) -> dict[str, Any]:
    """The outbox record of one event: what the relay needs to publish it, and nothing of the state."""
    return {
        "pk": f"{OUTBOX_PREFIX}{envelope.metadata.event_id}",
        "source": envelope.data.source(),
        "detailType": envelope.data.detail_type(),
        "detail": envelope.model_dump_json(by_alias=True),
        "expiresAt": int(time.time()) + RECORD_RETENTION_SECONDS,
    }


@dataclass
class Transaction:
    """Collects the writes of one step on one table and commits them in one `TransactWriteItems`."""

    table_name: str
    dedupe: bool = True
    _actions: list[dict[str, Any]] = field(default_factory=list)
    _labels: list[str] = field(default_factory=list)

    def put(
        self,
        item: dict[str, Any],
        *,
        label: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Write a whole item, optionally only if `condition` holds."""
        self._add("Put", {"Item": item}, label=label, condition=condition, names=names, values=values)

    def update(
        self,
        key: dict[str, Any],
        update: str,
        *,
        label: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Update an item in place, optionally only if `condition` holds."""
        self._add(
            "Update",
            {"Key": key, "UpdateExpression": update},
            label=label,
            condition=condition,
            names=names,
            values=values,
        )

    def consume(self, cause: Envelope[Any]) -> None:
        """Mark the event this step reacts to as applied; a second delivery makes the commit a duplicate."""
        if not self.dedupe:
            return
        item = {
            "pk": f"{INBOX_PREFIX}{cause.metadata.event_id}",
            "detailType": cause.data.detail_type(),
            "expiresAt": int(time.time()) + RECORD_RETENTION_SECONDS,
        }
        self.put(item, label=INBOX_LABEL, condition="attribute_not_exists(pk)")

    def emit(self, envelope: Envelope[Any]) -> None:
        """Publish `envelope` if, and only if, this transaction commits."""
        self.put(outbox_item(envelope), label="outbox", condition="attribute_not_exists(pk)")

    def commit(self, dynamodb: DynamoDBServiceResource) -> None:
        """Apply every write or none.

        Raises
        ------
        DuplicateEvent
            When the inbox mark already existed: the event was applied before.
        TransactionConflict
            When another condition failed; `failed` lists the labels of the failing writes.
        """
        if not self._actions:
            return
        if len(self._actions) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a step may write at most {MAX_TRANSACTION_ITEMS} items, got {len(self._actions)}")
        try:
            dynamodb.meta.client.transact_write_items(TransactItems=self._actions)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            failed = [
                label
                for label, reason in zip(self._labels, reasons, strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            ]
            if INBOX_LABEL in failed:
                raise DuplicateEvent("event already applied") from exc
            if not failed:
                # Cancelled for another reason (a concurrent transaction on the same item): retryable.
                raise
            raise TransactionConflict(failed) from exc

    def _add(
        self,
        action: str,
        body: dict[str, Any],
        *,
        label: str,
        condition: str | None,
        names: dict[str, str] | None,
        values: dict[str, Any] | None,
    ) -> None:
        body = {"TableName": self.table_name, **body}
        if condition:
            body["ConditionExpression"] = condition
        if names:
            body["ExpressionAttributeNames"] = names
        if values:
            body["ExpressionAttributeValues"] = values
        self._actions.append({action: body})
        self._labels.append(label)

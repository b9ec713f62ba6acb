"""The order table: orders, idempotency records of `POST /orders`, and the inbox and outbox of the service."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from order.models.order import Order, OrderStatus
from shared.items import plain
from shared.repository import TableRepository
from shared.transaction import Transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource

from shared.contracts.order import CancellationReason

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


def _order_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}"}


def _idempotency_key(key: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{key}"}


@dataclass(frozen=True)
class StoredResponse:
    """The first response to a `POST /orders` with an Idempotency-Key, kept for 24 hours."""

    request_hash: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class OrderRepository(TableRepository):
    """Reads orders and stages their writes in a transaction; every state change is conditional."""

    def get(self, order_id: str) -> Order | None:
        """The order, or None."""
        item = self._item(_order_key(order_id))
        return Order.model_validate(item) if item else None

    def stored_response(self, key: str, *, now: float | None = None) -> StoredResponse | None:
        """The remembered response for an Idempotency-Key, unless none or expired."""
        item = self._item(_idempotency_key(key))
        if not item or int(str(item["expiresAt"])) <= (now or time.time()):
            return None
        return StoredResponse(
            request_hash=str(item["requestHash"]),
            status=int(str(item["status"])),
            body=json.loads(str(item["body"])),
            headers=json.loads(str(item["headers"])),
        )

    @staticmethod
    def add(tx: Transaction, order: Order) -> None:
        """Stage a new order."""
        item = {**_order_key(order.order_id), **order.to_wire()}
        tx.put(item, label="order", condition="attribute_not_exists(pk)")

    @staticmethod
    def remember_response(tx: Transaction, key: str, response: StoredResponse, *, now: float) -> None:
        """Stage the response to replay for `key`; fails the commit if a live record exists."""
        item = {
            **_idempotency_key(key),
            "requestHash": response.request_hash,
            "status": response.status,
            "body": json.dumps(response.body),
            "headers": json.dumps(response.headers),
            "expiresAt": int(now) + IDEMPOTENCY_TTL_SECONDS,
        }
        tx.put(
            item,
            label="idempotency",
            condition="attribute_not_exists(pk) OR expiresAt <= :now",
            values={":now": int(now)},
        )

    @staticmethod
    def finish(
        tx: Transaction, order: Order, status: OrderStatus, *, at: datetime, reason: CancellationReason | None = None
    ) -> None:
        """Stage the move of a pending order to a terminal status; fails the commit if it is no longer pending."""
        tx.update(
            _order_key(order.order_id),
            "SET #status = :status, updatedAt = :at, cancellationReason = :reason",
            label="order",
            condition="#status = :pending",
            names={"#status": "status"},
            values={
                ":status": status.value,
                ":pending": OrderStatus.PENDING.value,
                ":at": at.isoformat(),
                ":reason": reason,
            },
        )


@dataclass(frozen=True)
class SagaViewReader:
    """Reads the saga projector's view of an order (read-only: the projector owns that table)."""

    dynamodb: DynamoDBServiceResource
    table_name: str

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The saga view of the order, or None when the projector has not seen it yet."""
        item = self.dynamodb.Table(self.table_name).get_item(Key={"pk": f"SAGA#{order_id}"}).get("Item")
        return plain(item["view"]) if item and "view" in item else None

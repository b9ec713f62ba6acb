"""The payment table: one payment record per order, plus the service's inbox and outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from payment.models.payment import Payment, PaymentStatus
from shared.items import plain
from shared.transaction import Transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource


def _key(order_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{order_id}"}


@dataclass(frozen=True)
class PaymentRepository:
    """Reads payments and stages their writes; one record per order makes a second charge impossible."""

    dynamodb: DynamoDBServiceResource
    table_name: str
    dedupe: bool = True

    def get(self, order_id: str) -> Payment | None:
        """The order's payment record, or None."""
        item = self.dynamodb.Table(self.table_name).get_item(Key=_key(order_id), ConsistentRead=True).get("Item")
        return Payment.model_validate(plain(item)) if item else None

    def transaction(self) -> Transaction:
        """A new transaction on the payment table."""
        return Transaction(self.table_name, dedupe=self.dedupe)

    def commit(self, tx: Transaction) -> None:
        """Commit `tx` (see `Transaction.commit` for what it raises)."""
        tx.commit(self.dynamodb)

    @staticmethod
    def add(tx: Transaction, payment: Payment) -> None:
        """Stage the first and only payment record of an order."""
        tx.put({**_key(payment.order_id), **payment.to_wire()}, label="payment", condition="attribute_not_exists(pk)")

    @staticmethod
    def move(tx: Transaction, payment: Payment, to: PaymentStatus, *, reason: str | None = None) -> None:
        """Stage a status change that only applies if the record is still as it was read."""
        tx.update(
            _key(payment.order_id),
            "SET #status = :to, reason = :reason",
            label="payment",
            condition="#status = :from",
            names={"#status": "status"},
            values={":to": to.value, ":from": payment.status.value, ":reason": reason},
        )

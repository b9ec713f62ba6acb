"""The payment table: one payment record per order, plus the service's inbox and outbox."""

from __future__ import annotations

from dataclasses import dataclass

from payment.models.payment import Payment, PaymentStatus
from shared.repository import TableRepository
from shared.transaction import Transaction


def _key(order_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{order_id}"}


@dataclass(frozen=True)
class PaymentRepository(TableRepository):
    """Reads payments and stages their writes; one record per order makes a second charge impossible."""

    def get(self, order_id: str) -> Payment | None:
        """The order's payment record, or None."""
        item = self._item(_key(order_id))
        return Payment.model_validate(item) if item else None

    def add(self, tx: Transaction, payment: Payment) -> None:
        """Stage the first and only payment record of an order (unguarded only with dedupe switched off)."""
        condition = "attribute_not_exists(pk)" if self.dedupe else None
        tx.put({**_key(payment.order_id), **payment.to_wire()}, label="payment", condition=condition)

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

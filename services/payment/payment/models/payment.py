"""A payment as the payment service keeps it: at most one per order."""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.base import LineItem, OrderId, PositiveMoney, WireModel


class PaymentStatus(StrEnum):
    """CHARGED can become REFUNDED (or REFUND_FAILED, then REFUNDED after a redrive); the rest are final.

    VOIDED marks an order cancelled before it was charged, so a late OrderCreated charges nothing;
    PENDING (authorisation never completed) becomes VOIDED when the order is cancelled.
    """

    PENDING = "PENDING"
    CHARGED = "CHARGED"
    DECLINED = "DECLINED"
    REFUNDED = "REFUNDED"
    REFUND_FAILED = "REFUND_FAILED"
    VOIDED = "VOIDED"


class Payment(WireModel):
    """The one payment record of an order."""

    order_id: OrderId
    status: PaymentStatus
    payment_id: str | None = None
    amount: PositiveMoney | None = None
    token: str | None = None
    items: tuple[LineItem, ...] = ()
    reason: str | None = None

    @property
    def holds_money(self) -> bool:
        """The customer was charged and has not been refunded."""
        return self.status in (PaymentStatus.CHARGED, PaymentStatus.REFUND_FAILED)

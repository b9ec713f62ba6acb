"""One saga's events at fixed times, for the projector's tests: every kind of event, with stable ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from shop_contracts.compensation import CompensationFailed
from shop_contracts.envelope import Envelope, EventMetadata, wrap
from shop_contracts.inventory import InventoryFailed, InventoryReleased, InventoryReserved, Shortage
from shop_contracts.order import OrderCancelled, OrderConfirmed, OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed, PaymentRefunded
from tests.support.builders import lines, priced
from tests.support.fakes import TOKENS

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ITEMS = lines(("A", 1))


def at(second: int, data: Any) -> Envelope[Any]:
    metadata = EventMetadata(
        event_id=f"e-{second}-{type(data).__name__}", correlation_id="o-1", occurred_at=T0 + timedelta(seconds=second)
    )
    return wrap(data, metadata)


CREATED = at(
    0,
    OrderCreated(
        order_id="o-1",
        customer_id="c",
        items=priced(*ITEMS, unit_price="5.00"),
        total_amount=Decimal("5.00"),
        currency="USD",
        deadline=T0 + timedelta(minutes=5),
        encrypted_payment_token=TOKENS.seal("tok_ok", order_id="o-1"),
    ),
)
CHARGED = at(1, PaymentProcessed(order_id="o-1", payment_id="p", amount=Decimal("5.00"), items=ITEMS))
RESERVED = at(2, InventoryReserved(order_id="o-1", items=ITEMS))
CONFIRMED = at(3, OrderConfirmed(order_id="o-1"))
SHORT = at(
    2,
    InventoryFailed(
        order_id="o-1", reason="out_of_stock", shortages=(Shortage(product_id="A", requested=1, available=0),)
    ),
)
REFUNDED = at(3, PaymentRefunded(order_id="o-1", payment_id="p", amount=Decimal("5.00")))
CANCELLED_OOS = at(4, OrderCancelled(order_id="o-1", reason="out_of_stock"))
DECLINED = at(1, PaymentFailed(order_id="o-1", reason="card_declined"))
CANCELLED_DECLINED = at(2, OrderCancelled(order_id="o-1", reason="payment_declined"))
TIMED_OUT = at(3, OrderCancelled(order_id="o-1", reason="timeout"))
RELEASED = at(5, InventoryReleased(order_id="o-1", items=ITEMS))
REFUND_FAILED = at(6, CompensationFailed.because("o-1", "refund_payment", "refund_rejected"))
LATE_REFUND = at(7, PaymentRefunded(order_id="o-1", payment_id="p", amount=Decimal("5.00")))

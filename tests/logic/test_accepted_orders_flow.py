"""The API's limits and the consumers' limits are one contract: any order the API accepts, every consumer
can process. Hypothesis generates request bodies and the catalogue's prices; the products are set in
inventory, their ProductPriced events fed to the order service's catalogue copy, and each body the API
accepts is placed and then fed, in its EventBridge form, through payment, inventory and the order
service's own reactions. Payment charges the total the order service computed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.logic.manage_products import set_product
from inventory.logic.release_stock import release_stock
from inventory.logic.reserve_stock import reserve_stock
from inventory.models.stock import ProductUpdate
from order.dal.order_repository import OrderUnitOfWork
from order.logic.finish_order import (
    cancel_on_inventory_failed,
    cancel_on_payment_failed,
    confirm_or_note_payment,
    confirm_or_note_reservation,
)
from order.logic.place_order import place_order
from order.logic.record_price import record_price
from order.models.errors import TotalTooLarge
from order.models.order import PlaceOrderRequest
from payment.dal.payment_repository import PaymentUnitOfWork
from payment.logic.charge_order import charge_order
from payment.logic.refund_payment import refund_payment
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.inventory import InventoryFailed, InventoryReserved, ProductPriced
from shop_contracts.order import OrderCancelled, OrderConfirmed, OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed
from shop_contracts.registry import parse_event
from tests.support.builders import eventbridge, published
from tests.support.fakes import TOKENS, CountingGateway
from tests.support.memory import InMemoryTable

product_ids = st.text(min_size=1, max_size=64)
lines = st.fixed_dictionaries({"productId": product_ids, "quantity": st.integers(min_value=1, max_value=1000)})
bodies = st.fixed_dictionaries(
    {
        "items": st.lists(lines, min_size=1, max_size=50),
        "payment": st.fixed_dictionaries({"token": st.sampled_from(["tok_ok", "tok_decline", "tok_pending", "x"])}),
    },
    optional={"currency": st.sampled_from(["USD", "EUR"])},
)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)


def delivered[EventT: DomainEvent](table: InMemoryTable, expected: type[EventT]) -> list[Envelope[EventT]]:
    """What a consumer of `expected` receives of the table's outbox, parsed exactly as it parses events."""
    return [
        parse_event(json.loads(json.dumps(eventbridge(Envelope[expected].model_validate(detail)))), expected)  # type: ignore[valid-type]
        for detail_type, detail in published(table)
        if detail_type == expected.detail_type()
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, in_stock=st.booleans(), price=prices, client_total=st.booleans())
def test_every_accepted_order_can_be_processed_by_every_consumer(
    body: dict[str, Any], in_stock: bool, price: Decimal, client_total: bool
) -> None:
    try:
        request = PlaceOrderRequest.model_validate(body)
    except ValidationError:
        assume(False)
        raise
    orders, payments, inventory = (InMemoryTable.like(f"{name}Table") for name in ("Order", "Payment", "Inventory"))
    order_uow, payment_uow, inventory_uow = (
        OrderUnitOfWork(orders),
        PaymentUnitOfWork(payments),
        InventoryUnitOfWork(inventory),
    )
    for product_id in {line.product_id for line in request.items}:
        update = ProductUpdate(name="p", price=price, available=1_000_000 if in_stock else 0)
        set_product(product_id, update, if_match=None, uow=inventory_uow)
    for product_priced in delivered(inventory, ProductPriced):
        record_price(product_priced, uow=order_uow)
    total = sum((price * line.quantity for line in request.items), Decimal("0"))
    if client_total:
        request = request.model_copy(update={"total_amount": total})
    now = utc_now()

    try:
        place_order(
            request, customer_id="sub", idempotency_key=None, uow=order_uow, sealer=TOKENS, now=now, deadline_seconds=60
        )
    except TotalTooLarge:
        assume(False)
    [created_event] = delivered(orders, OrderCreated)
    assert created_event.data.total_amount == total
    for created in delivered(orders, OrderCreated):
        charge_order(created, uow=payment_uow, gateway=CountingGateway(), tokens=TOKENS, now=now)
    for paid in delivered(payments, PaymentProcessed):
        reserve_stock(paid, uow=inventory_uow)
        confirm_or_note_payment(paid, uow=order_uow, now=now)
    for declined in delivered(payments, PaymentFailed):
        cancel_on_payment_failed(declined, uow=order_uow, now=now)
    for reserved in delivered(inventory, InventoryReserved):
        confirm_or_note_reservation(reserved, uow=order_uow, now=now)
    for short in delivered(inventory, InventoryFailed):
        cancel_on_inventory_failed(short, uow=order_uow, now=now)
    for cancelled in delivered(orders, OrderCancelled):
        refund_payment(cancelled, uow=payment_uow, gateway=CountingGateway(), now=now)
        release_stock(cancelled, uow=inventory_uow)

    ended = delivered(orders, OrderConfirmed) + delivered(orders, OrderCancelled)
    if request.payment.token != "tok_pending":
        assert len(ended) == 1  # the saga reached its end through every consumer
    assert all(charged.data.amount == total for charged in delivered(payments, PaymentProcessed))

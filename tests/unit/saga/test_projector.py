"""The projector: a commutative, idempotent fold of a saga's events into its view."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from saga.handlers import on_saga_event
from saga.logic.fold import saga_view, seen_event
from shared.contracts.compensation import CompensationFailed
from shared.contracts.envelope import Envelope, EventMetadata, wrap
from shared.contracts.inventory import InventoryFailed, InventoryReleased, InventoryReserved, Shortage
from shared.contracts.order import OrderCancelled, OrderConfirmed, OrderCreated
from shared.contracts.payment import PaymentFailed, PaymentProcessed, PaymentRefunded
from tests.unit.builders import lines, sqs_event
from tests.unit.conftest import Tables

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
        items=ITEMS,
        total_amount=Decimal("5.00"),
        currency="USD",
        deadline=T0 + timedelta(minutes=5),
        payment_token="tok_ok",
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
REFUND_FAILED = at(6, CompensationFailed(order_id="o-1", step="refund_payment", reason="gateway said no"))


def view(*events: Envelope[Any]) -> dict[str, Any]:
    return saga_view([seen_event(event) for event in events])


@pytest.mark.parametrize(
    ("events", "status", "reason"),
    [
        ((CREATED,), "STARTED", None),
        ((CREATED, CHARGED), "PAYMENT_PROCESSED", None),
        ((CREATED, CHARGED, RESERVED), "INVENTORY_RESERVED", None),
        ((CREATED, CHARGED, RESERVED, CONFIRMED), "COMPLETED", None),
        ((CREATED, DECLINED), "COMPENSATING", "payment_declined"),
        ((CREATED, DECLINED, CANCELLED_DECLINED), "CANCELLED", "payment_declined"),
        ((CREATED, CHARGED, SHORT), "COMPENSATING", "out_of_stock"),
        ((CREATED, CHARGED, SHORT, CANCELLED_OOS), "COMPENSATING", "out_of_stock"),
        ((CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS), "CANCELLED", "out_of_stock"),
        ((CREATED, CHARGED, RESERVED, TIMED_OUT, REFUNDED), "COMPENSATING", "timeout"),
        ((CREATED, CHARGED, RESERVED, TIMED_OUT, REFUNDED, RELEASED), "CANCELLED", "timeout"),
        ((CREATED, CHARGED, TIMED_OUT, REFUND_FAILED), "COMPENSATION_FAILED", "compensation_failed: gateway said no"),
    ],
)
def test_the_view_follows_the_saga(events: tuple[Envelope[Any], ...], status: str, reason: str | None) -> None:
    result = view(*events)
    assert (result["status"], result["failureReason"]) == (status, reason)
    assert [entry["type"] for entry in result["timeline"]] == [event.data.detail_type() for event in events]


def test_steps_show_each_service_with_its_time() -> None:
    steps = view(CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS)["steps"]
    assert steps == [
        {"name": "order", "status": "CANCELLED", "at": "2026-11-22T10:00:04Z"},
        {"name": "payment", "status": "REFUNDED", "at": "2026-11-22T10:00:03Z"},
        {"name": "inventory", "status": "FAILED", "at": "2026-11-22T10:00:02Z"},
    ]


def test_any_order_of_arrival_gives_the_same_view() -> None:
    events = (CREATED, CHARGED, RESERVED, TIMED_OUT, REFUNDED, RELEASED)
    expected = view(*events)
    for permutation in itertools.permutations(events):
        assert view(*permutation) == expected


def test_the_handler_is_idempotent_and_commutative(tables: Tables, context: LambdaContext) -> None:
    events = [CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS]
    shuffled = events + events[:3]
    random.Random(7).shuffle(shuffled)

    for event in shuffled:
        response = on_saga_event.lambda_handler(sqs_event(event), context)
        assert response == {"batchItemFailures": []}

    item = tables.saga.item("SAGA#o-1")
    assert item is not None
    assert item["view"] == view(*events)
    assert int(item["version"]) == len(events)

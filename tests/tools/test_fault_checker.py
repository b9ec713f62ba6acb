"""The fault suite's checker flags each kind of broken invariant (and stays quiet on a clean saga)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.support.faults.checker import PlacedOrder, check_order, check_view

ORDER = PlacedOrder("o-1", [("A", 1)], Decimal("5.00"))


def event(kind: str, event_id: str, amount: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"orderId": "o-1"}
    if amount:
        data["amount"] = amount
    return {"detail-type": kind, "detail": {"metadata": {"eventId": event_id}, "data": data}}


HAPPY = [
    event("OrderCreated", "1"),
    event("PaymentProcessed", "2", "5.00"),
    event("InventoryReserved", "3"),
    event("OrderConfirmed", "4"),
]


def saga(events: list[dict[str, Any]], status: str) -> dict[str, Any]:
    timeline = [{"eventId": e["detail"]["metadata"]["eventId"]} for e in events]
    return {"view": {"status": status, "timeline": timeline}}


def test_a_clean_confirmed_saga_has_no_violations() -> None:
    assert check_order(ORDER, "CONFIRMED", HAPPY, {"status": "CHARGED"}) == []
    assert check_view("o-1", "CONFIRMED", HAPPY, saga(HAPPY, "COMPLETED")) == []


def test_a_second_charge_is_a_double_charge() -> None:
    events = [*HAPPY, event("PaymentProcessed", "5", "5.00")]
    violations = check_order(ORDER, "CONFIRMED", events, {"status": "CHARGED"})
    assert any(v.startswith("double charge of o-1") for v in violations)
    assert any(v.startswith("money of o-1") for v in violations)


def test_a_second_reservation_is_a_double_reservation() -> None:
    events = [*HAPPY, event("InventoryReserved", "6")]
    assert any(
        v.startswith("double reservation") for v in check_order(ORDER, "CONFIRMED", events, {"status": "CHARGED"})
    )


def test_a_pending_order_is_lost_and_unrefunded_money_is_flagged() -> None:
    events = [event("OrderCreated", "1"), event("PaymentProcessed", "2", "5.00")]
    violations = check_order(ORDER, "PENDING", events, {"status": "CHARGED"})
    assert any(v.startswith("lost order") for v in violations)
    assert any(v.startswith("money of o-1: charged 5.00 - refunded 0 != 0") for v in violations)


def test_a_view_that_disagrees_or_misses_events_is_flagged() -> None:
    violations = check_view("o-1", "CANCELLED", HAPPY, saga(HAPPY[:2], "COMPLETED"))
    assert len(violations) == 2

"""Helpers for end-to-end tests: place an order, wait for its saga to settle, and read its money and stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener, wait_for

SETTLED = {"COMPLETED", "CANCELLED", "COMPENSATION_FAILED"}


def place(api: ApiClient, lines: list[tuple[str, int]], total: str, token: str = "tok_ok", **extra: Any) -> str:
    """Place an order and return its id."""
    body = {
        "items": [{"productId": product, "quantity": quantity} for product, quantity in lines],
        "totalAmount": total,
        "payment": {"token": token},
        **extra,
    }
    result = api.call("POST", "/orders", body)
    assert result.status == 201, result.body
    return str(result.body["orderId"])


def settle(api: ApiClient, bus: BusListener, order_id: str, timeout: float = 90) -> dict[str, Any]:
    """Wait until the order is final, its saga view settled, and the listener saw every event of it."""

    def settled() -> dict[str, Any] | None:
        order = api.call("GET", f"/orders/{order_id}").body
        saga = order.get("saga") or {}
        if order.get("status") == "PENDING" or saga.get("status") not in SETTLED:
            return None
        if len(bus.events(order_id)) < len(saga.get("timeline", [])):
            return None
        return order  # type: ignore[no-any-return]

    return wait_for(settled, timeout=timeout, what=f"saga {order_id} settled")


def money(bus: BusListener, order_id: str) -> Decimal:
    """Charged minus refunded for one order, from the events on the bus."""
    total = Decimal("0")
    for event in bus.events(order_id):
        if event["detail-type"] == "PaymentProcessed":
            total += Decimal(event["detail"]["data"]["amount"])
        elif event["detail-type"] == "PaymentRefunded":
            total -= Decimal(event["detail"]["data"]["amount"])
    return total


def available(api: ApiClient, product_id: str) -> int:
    """Units of a product free to reserve."""
    result = api.call("GET", f"/products/{product_id}")
    assert result.status == 200, result.body
    return int(result.body["available"])

"""Every path of the saga on the deployed stack, checked through the HTTP API and the bus.

For each path: the order's final state and reason, the exact events a new consumer sees, the stock of
every product involved, and the money (charged minus refunded is the total if confirmed, else 0).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import available, money, place, settle


def test_the_first_slice_order_created_is_relayed_and_projected(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    product = new_product(5)

    result = api.call(
        "POST",
        "/orders",
        {
            "items": [{"productId": product, "quantity": 1}],
            "totalAmount": "10.00",
            "payment": {"token": "tok_ok"},
        },
    )

    assert result.status == 201
    order_id = result.body["orderId"]
    assert result.headers["Location"] == f"/orders/{order_id}"
    created = wait_for(
        lambda: next((e for e in bus.events(order_id) if e["detail-type"] == "OrderCreated"), None),
        what="OrderCreated on the bus",
    )
    assert created["source"] == "shop.order"
    assert created["detail"]["data"]["items"] == [{"productId": product, "quantity": 1, "unitPrice": "10.00"}]
    assert created["detail"]["metadata"]["correlationId"] == order_id
    view = wait_for(lambda: api.call("GET", f"/orders/{order_id}").body.get("saga"), what="saga view")
    assert view["timeline"][0]["type"] == "OrderCreated"


def test_confirmed(api: ApiClient, bus: BusListener, new_product: Callable[..., str]) -> None:
    laptop, mouse = new_product(5, "1299.99"), new_product(10, "59.90")

    order_id = place(api, [(laptop, 2), (mouse, 1)], "2659.88")
    order = settle(api, bus, order_id)

    assert (order["status"], order["cancellationReason"]) == ("CONFIRMED", None)
    assert order["saga"]["status"] == "COMPLETED"
    assert bus.types(order_id) == sorted(["OrderCreated", "PaymentProcessed", "InventoryReserved", "OrderConfirmed"])
    assert (available(api, laptop), available(api, mouse)) == (3, 9)
    assert money(bus, order_id) == Decimal("2659.88")


def test_payment_declined(api: ApiClient, bus: BusListener, new_product: Callable[..., str]) -> None:
    product = new_product(5)

    order_id = place(api, [(product, 1)], "10.00", token="tok_decline")
    order = settle(api, bus, order_id)

    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "payment_declined")
    assert order["saga"]["status"] == "CANCELLED"
    assert bus.types(order_id) == sorted(["OrderCreated", "PaymentFailed", "OrderCancelled"])
    assert available(api, product) == 5
    assert money(bus, order_id) == 0


def test_out_of_stock(api: ApiClient, bus: BusListener, new_product: Callable[..., str]) -> None:
    product = new_product(1)

    order_id = place(api, [(product, 3)], "30.00")
    order = settle(api, bus, order_id)

    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "out_of_stock")
    assert bus.types(order_id) == sorted(
        ["OrderCreated", "PaymentProcessed", "InventoryFailed", "PaymentRefunded", "OrderCancelled"]
    )
    [failed] = [e for e in bus.events(order_id) if e["detail-type"] == "InventoryFailed"]
    assert failed["detail"]["data"]["shortages"] == [{"productId": product, "requested": 3, "available": 1}]
    assert available(api, product) == 1
    assert money(bus, order_id) == 0


def test_a_multi_line_order_with_one_line_short_takes_nothing(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    plenty, scarce = new_product(10), new_product(1)

    order_id = place(api, [(plenty, 2), (scarce, 2)], "40.00")
    order = settle(api, bus, order_id)

    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "out_of_stock")
    assert (available(api, plenty), available(api, scarce)) == (10, 1)
    assert "InventoryReserved" not in bus.types(order_id)
    assert money(bus, order_id) == 0


def test_customer_cancel(api: ApiClient, bus: BusListener, new_product: Callable[..., str]) -> None:
    product = new_product(5)

    order_id = place(api, [(product, 2)], "20.00")
    cancel = api.call("POST", f"/orders/{order_id}/cancel")
    order = settle(api, bus, order_id)

    assert cancel.status == 202, cancel.body
    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "customer_request")
    assert order["saga"]["status"] == "CANCELLED"
    assert available(api, product) == 5
    assert money(bus, order_id) == 0
    types = bus.types(order_id)
    assert types.count("PaymentRefunded") == types.count("PaymentProcessed")
    assert types.count("InventoryReleased") == types.count("InventoryReserved")
    assert api.call("POST", f"/orders/{order_id}/cancel").status == 409


def test_a_confirmed_order_cannot_be_cancelled(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    order_id = place(api, [(new_product(5), 1)], "10.00")
    settle(api, bus, order_id)

    result = api.call("POST", f"/orders/{order_id}/cancel")

    assert result.status == 409
    assert result.headers["Content-Type"] == "application/problem+json"


def test_every_event_names_its_saga_and_its_cause(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    order_id = place(api, [(new_product(5), 1)], "10.00")
    settle(api, bus, order_id)

    events = bus.events(order_id)
    ids = {e["detail"]["metadata"]["eventId"] for e in events}
    for event in events:
        metadata = event["detail"]["metadata"]
        assert metadata["correlationId"] == order_id and metadata["eventVersion"] == 1
        if event["detail-type"] == "OrderCreated":
            assert metadata["causationId"] is None
        else:
            assert metadata["causationId"] in ids

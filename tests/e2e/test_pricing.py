"""The server prices every order: a price change reaches the order service's catalogue copy in seconds, a
total the customer set is refused with the current one, an order without a total is charged price x
quantity, and an unknown product is refused with nothing written or published."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr

from shopctl.stack import ApiClient, stack_outputs, wait_until_priced
from tests.e2e.conftest import BusListener
from tests.e2e.saga import available, money, settle


def test_a_price_change_reaches_the_order_services_catalogue_in_seconds(
    operator: ApiClient, new_product: Callable[..., str]
) -> None:
    product = new_product(5, "10.00")

    stack = os.environ["AWS_SAM_STACK_NAME"]
    started = time.monotonic()
    changed = operator.call("PUT", f"/products/{product}", {"name": product, "price": "12.50", "available": 5})
    assert changed.status == 200
    wait_until_priced(stack, {product: "12.50"}, timeout=60)
    took = time.monotonic() - started

    print(f"\nPUT of a new price -> the order service's catalogue copy has it: {took:.2f}s")
    assert took < 30


def test_an_order_without_a_total_is_charged_price_times_quantity(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    laptop, mouse = new_product(5, "1299.99"), new_product(10, "59.90")
    body = {
        "items": [{"productId": laptop, "quantity": 2}, {"productId": mouse, "quantity": 3}],
        "payment": {"token": "tok_ok"},
    }

    placed = api.call("POST", "/orders", body)
    assert placed.status == 201, placed.body
    order = settle(api, bus, placed.body["orderId"])

    assert order["status"] == "CONFIRMED" and order["totalAmount"] == "2779.68"
    assert [(line["productId"], line["unitPrice"]) for line in order["items"]] == [
        (laptop, "1299.99"),
        (mouse, "59.90"),
    ]
    [created] = [e for e in bus.events(order["orderId"]) if e["detail-type"] == "OrderCreated"]
    assert created["detail"]["data"]["totalAmount"] == "2779.68"
    assert money(bus, order["orderId"]) == Decimal("2779.68")


def test_a_total_the_customer_set_is_409_with_the_current_total_and_places_nothing(
    api: ApiClient, new_product: Callable[..., str]
) -> None:
    product = new_product(2000, "1299.99")
    body = {"items": [{"productId": product, "quantity": 1000}], "totalAmount": "0.01", "payment": {"token": "tok_ok"}}

    refused = api.call("POST", "/orders", body)

    assert refused.status == 409 and refused.headers["Content-Type"] == "application/problem+json"
    assert refused.body["totalAmount"] == "1299990.00"
    assert _orders_naming(product) == []
    accepted = api.call("POST", "/orders", {**body, "totalAmount": refused.body["totalAmount"]})
    assert accepted.status == 201, accepted.body


def test_an_unknown_product_is_400_naming_the_line_with_nothing_written_or_published(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    known, unknown = new_product(5), "E2E-NEVER-CREATED"
    body = {
        "items": [{"productId": known, "quantity": 1}, {"productId": unknown, "quantity": 1}],
        "payment": {"token": "tok_ok"},
    }

    refused = api.call("POST", "/orders", body)

    assert refused.status == 400
    assert refused.body["errors"] == [
        {"field": "items[1].productId", "message": f"no product '{unknown}' in the catalogue"}
    ]
    time.sleep(3)  # what a relay would have published by now
    assert _orders_naming(known) == []
    assert not [e for e in bus.all_events() if known in str(e["detail"]["data"].get("items"))]
    assert available(api, known) == 5


def _orders_naming(product_id: str) -> list[Any]:
    """Every order-table item (order, outbox row) that names the product."""
    table = boto3.resource("dynamodb").Table(_order_table())
    orders_or_outbox = Attr("pk").begins_with("ORDER#") | Attr("pk").begins_with("OUTBOX#")
    found: list[Any] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(FilterExpression=orders_or_outbox, **kwargs)
        found += [item for item in page["Items"] if product_id in str(item)]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _order_table() -> str:
    return stack_outputs(os.environ["AWS_SAM_STACK_NAME"])["OrderTableName"]

"""The inventory service: all lines or none, stock never negative, one reservation and one release per order."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers import api, on_order_cancelled, on_payment_processed
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCancelled
from shop_contracts.payment import PaymentProcessed
from tests.component.conftest import Tables
from tests.support.builders import api_event, envelope, lines, sqs_event


def stock(tables: Tables, **available: int) -> None:
    for product_id, units in available.items():
        tables.inventory._table.put_item(
            Item={
                "pk": f"PRODUCT#{product_id}",
                "productId": product_id,
                "name": product_id,
                "price": "1.00",
                "available": units,
            }
        )


def available(tables: Tables, product_id: str) -> int:
    item = tables.inventory.item(f"PRODUCT#{product_id}")
    return int(item["available"]) if item else 0


def paid(order_id: str, *pairs: tuple[str, int]) -> Envelope[Any]:
    return envelope(
        PaymentProcessed(order_id=order_id, payment_id="pay-1", amount=Decimal("10.00"), items=lines(*pairs))
    )


def cancelled(order_id: str) -> Envelope[Any]:
    return envelope(OrderCancelled(order_id=order_id, reason="timeout"))


def test_every_line_is_reserved_in_one_step(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=5, B=3)

    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2), ("B", 3))), context)

    assert (available(tables, "A"), available(tables, "B")) == (3, 0)
    [(detail_type, detail)] = tables.inventory.outbox()
    assert detail_type == "InventoryReserved"
    assert detail["data"]["items"] == [{"productId": "A", "quantity": 2}, {"productId": "B", "quantity": 3}]


def test_one_short_line_reserves_nothing_and_reports_the_shortage(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=5, B=1)

    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2), ("B", 3))), context)

    assert (available(tables, "A"), available(tables, "B")) == (5, 1)
    [(detail_type, detail)] = tables.inventory.outbox()
    assert detail_type == "InventoryFailed"
    assert detail["data"]["shortages"] == [{"productId": "B", "requested": 3, "available": 1}]
    assert detail["data"]["reason"] == "out_of_stock"


def test_an_unknown_product_counts_as_none_available(tables: Tables, context: LambdaContext) -> None:
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("GHOST", 1))), context)

    [(detail_type, detail)] = tables.inventory.outbox()
    assert detail_type == "InventoryFailed"
    assert detail["data"]["shortages"] == [{"productId": "GHOST", "requested": 1, "available": 0}]


def test_repeated_lines_of_one_product_are_reserved_together(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=3)

    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2), ("A", 2))), context)

    assert available(tables, "A") == 3
    assert tables.inventory.outbox()[0][1]["data"]["shortages"] == [{"productId": "A", "requested": 4, "available": 3}]


def test_a_payment_delivered_twice_reserves_once(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=5)
    event = paid("o-1", ("A", 2))

    on_payment_processed.lambda_handler(sqs_event(event, event), context)
    on_payment_processed.lambda_handler(sqs_event(event), context)

    assert available(tables, "A") == 3
    assert tables.inventory.published() == ["InventoryReserved"]


def test_a_cancel_releases_the_reservation_once(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=5)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)
    cancel = cancelled("o-1")

    on_order_cancelled.lambda_handler(sqs_event(cancel, cancel), context)
    on_order_cancelled.lambda_handler(sqs_event(cancelled("o-1")), context)

    assert available(tables, "A") == 5
    assert tables.inventory.published() == ["InventoryReserved", "InventoryReleased"]


def test_a_cancel_of_a_failed_reservation_has_nothing_to_release(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=1)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)

    on_order_cancelled.lambda_handler(sqs_event(cancelled("o-1")), context)

    assert available(tables, "A") == 1
    assert tables.inventory.published() == ["InventoryFailed"]


def test_a_payment_after_the_cancel_reserves_nothing(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=5)

    on_order_cancelled.lambda_handler(sqs_event(cancelled("o-1")), context)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)

    assert available(tables, "A") == 5
    assert tables.inventory.published() == []


def test_stock_never_goes_negative_across_orders(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=3)

    for index in range(5):
        on_payment_processed.lambda_handler(sqs_event(paid(f"o-{index}", ("A", 1))), context)

    assert available(tables, "A") == 0
    assert tables.inventory.published().count("InventoryReserved") == 3
    assert tables.inventory.published().count("InventoryFailed") == 2


def product_call(
    context: LambdaContext, method: str, product_id: str, body: Any = None, suffix: str = "", **headers: str
) -> tuple[int, Any]:
    status, _, payload = product_response(context, method, product_id, body, suffix, **headers)
    return status, payload


def product_response(
    context: LambdaContext, method: str, product_id: str, body: Any = None, suffix: str = "", **headers: str
) -> tuple[int, dict[str, str], Any]:
    event = api_event(
        method,
        f"/products/{product_id}{suffix}",
        body,
        headers={name.replace("_", "-"): value for name, value in headers.items()},
        resource="/products/{productId}" + suffix,
        path_parameters={"productId": product_id},
    )
    response = api.lambda_handler(event, context)
    merged = {**response.get("headers", {}), **{k: v[0] for k, v in response.get("multiValueHeaders", {}).items()}}
    return response["statusCode"], merged, json.loads(response["body"])


def test_put_then_get_a_product(tables: Tables, context: LambdaContext) -> None:
    body = {"name": "Premium Laptop", "price": "1299.99", "available": 50}

    assert product_call(context, "PUT", "PROD-001", body) == (200, {"productId": "PROD-001", **body})
    assert product_call(context, "GET", "PROD-001") == (200, {"productId": "PROD-001", **body})


def test_an_invalid_product_is_rejected_and_not_stored(tables: Tables, context: LambdaContext) -> None:
    status, body = product_call(context, "PUT", "PROD-001", {"name": "", "price": 12.5, "available": -1})

    assert status == 400
    assert {error["field"] for error in body["errors"]} == {"name", "price", "available"}
    assert tables.inventory.items() == []


def test_an_unknown_product_is_404(tables: Tables, context: LambdaContext) -> None:
    assert product_call(context, "GET", "NOPE")[0] == 404


def test_a_release_that_cannot_return_stock_is_retried_then_reported(tables: Tables, context: LambdaContext) -> None:
    stock(tables, A=5)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)
    tables.inventory._table.delete_item(Key={"pk": "PRODUCT#A"})  # the product vanished meanwhile
    cancel = cancelled("o-1")

    early = on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=1), context)
    last = on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=3), context)

    assert early == last == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert tables.inventory.published() == ["InventoryReserved", "CompensationFailed"]
    failure = tables.inventory.outbox()[1][1]
    assert failure["data"]["step"] == "release_inventory"
    assert tables.inventory.item("RESERVATION#o-1")["status"] == "RESERVED"  # type: ignore[index]


LAPTOP = {"name": "Premium Laptop", "price": "1299.99", "available": 50}


def test_every_change_of_a_product_moves_its_etag_on(tables: Tables, context: LambdaContext) -> None:
    _, created, _ = product_response(context, "PUT", "A", LAPTOP)
    _, read, _ = product_response(context, "GET", "A")
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)
    _, after_reservation, body = product_response(context, "GET", "A")

    assert created["ETag"] == read["ETag"] == '"1"'
    assert after_reservation["ETag"] == '"2"' and body["available"] == 48


def test_a_put_with_a_stale_if_match_is_412_and_keeps_the_reservation(tables: Tables, context: LambdaContext) -> None:
    _, read, _ = product_response(context, "PUT", "A", LAPTOP)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)

    status, body = product_call(context, "PUT", "A", {**LAPTOP, "available": 60}, If_Match=read["ETag"])

    assert status == 412 and '"2"' in body["detail"]
    assert available(tables, "A") == 48
    status, fresh, _ = product_response(context, "PUT", "A", {**LAPTOP, "available": 60}, If_Match='"2"')
    assert status == 200 and fresh["ETag"] == '"3"'


def test_a_restock_adds_to_what_is_free_now(tables: Tables, context: LambdaContext) -> None:
    product_call(context, "PUT", "A", LAPTOP)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)

    status, body = product_call(context, "POST", "A", {"quantity": 10}, suffix="/restock")

    assert (status, body["available"]) == (200, 58)
    assert product_call(context, "POST", "NOPE", {"quantity": 1}, suffix="/restock")[0] == 404
    assert product_call(context, "POST", "A", {"quantity": 1_000_000}, suffix="/restock")[0] == 409
    assert product_call(context, "POST", "A", {"quantity": "1"}, suffix="/restock")[0] == 400


@pytest.mark.parametrize("product_id", ["has space", "x" * 65, "semi;colon"])
def test_a_product_id_outside_the_alphabet_is_400(tables: Tables, context: LambdaContext, product_id: str) -> None:
    status, body = product_call(context, "GET", product_id)
    assert status == 400 and body["errors"][0]["field"] == "productId"


def test_every_put_announces_the_price_so_a_lost_one_can_be_sent_again(tables: Tables, context: LambdaContext) -> None:
    product_call(context, "PUT", "A", LAPTOP)
    product_call(context, "PUT", "A", LAPTOP)  # the same values: announced again (a copy may have lost it)
    product_call(context, "POST", "A", {"quantity": 5}, suffix="/restock")  # stock alone: no price news
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)
    product_call(context, "PUT", "A", {**LAPTOP, "price": "999.00", "available": 53}, If_Match='"4"')

    priced = [
        (detail["data"]["price"], detail["data"]["version"])
        for t, detail in tables.inventory.outbox()
        if t == "ProductPriced"
    ]
    assert priced == [("1299.99", 1), ("1299.99", 2), ("999.00", 5)]
    assert all(
        detail["metadata"]["correlationId"] == "A" for t, detail in tables.inventory.outbox() if t == "ProductPriced"
    )


def test_a_put_that_changes_the_stock_without_if_match_is_428_and_changes_nothing(
    tables: Tables, context: LambdaContext
) -> None:
    product_call(context, "PUT", "A", LAPTOP)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)
    announced = len(tables.inventory.outbox())

    status, body = product_call(context, "PUT", "A", {**LAPTOP, "available": 60})

    assert status == 428 and '"2"' in body["detail"] and "If-Match" in body["detail"]
    assert available(tables, "A") == 48 and len(tables.inventory.outbox()) == announced
    # Creating a product, or a PUT that leaves its stock as it is, needs no If-Match.
    assert product_call(context, "PUT", "B", LAPTOP)[0] == 200
    assert product_call(context, "PUT", "A", {**LAPTOP, "available": 48, "price": "1199.99"})[0] == 200

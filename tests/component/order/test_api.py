"""The order REST API, in-process on moto: what is stored, what is published, what is answered."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.api import lambda_handler
from tests.component.conftest import Tables, dynamodb_calls
from tests.support.builders import api_event

CUSTOMER = "sub-of-customer-a"
VALID = {
    "items": [{"productId": "PROD-001", "quantity": 2}],
    "totalAmount": "2599.98",
    "payment": {"token": "tok_ok"},
}


def call(
    context: LambdaContext, method: str, path: str, body: Any = None, **kwargs: Any
) -> tuple[int, dict[str, Any], Any]:
    kwargs.setdefault("customer", CUSTOMER)
    if "/orders/" in path and "path_parameters" not in kwargs:
        order_id = path.split("/")[2]
        kwargs["path_parameters"] = {"orderId": order_id}
        kwargs["resource"] = "/orders/{orderId}" + ("/cancel" if path.endswith("/cancel") else "")
    response = lambda_handler(api_event(method, path, body, **kwargs), context)
    payload = json.loads(response["body"]) if response.get("body") else None
    headers = {**response.get("headers", {}), **{k: v[0] for k, v in response.get("multiValueHeaders", {}).items()}}
    return response["statusCode"], headers, payload


def test_a_valid_order_is_stored_pending_and_announced(tables: Tables, context: LambdaContext) -> None:
    status, headers, body = call(context, "POST", "/orders", VALID)

    assert status == 201
    assert body["status"] == "PENDING"
    assert headers["Location"] == f"/orders/{body['orderId']}"
    order = tables.order.item(f"ORDER#{body['orderId']}")
    assert order is not None and order["status"] == "PENDING"
    [(detail_type, detail)] = tables.order.outbox()
    assert detail_type == "OrderCreated"
    assert detail["data"]["orderId"] == body["orderId"]
    assert detail["data"]["totalAmount"] == "2599.98"
    assert detail["data"]["currency"] == "USD"
    assert detail["metadata"]["correlationId"] == body["orderId"]
    assert detail["metadata"]["causationId"] is None
    assert detail["metadata"]["eventVersion"] == 1


@pytest.mark.parametrize(
    ("mutation", "fields"),
    [
        ({"items": [{"productId": "PROD-001", "quantity": "2"}]}, {"items[0].quantity"}),
        ({"items": [{"productId": "PROD-001", "quantity": 1.5}]}, {"items[0].quantity"}),
        ({"items": [{"productId": "PROD-001", "quantity": 0}]}, {"items[0].quantity"}),
        ({"items": [{"productId": "PROD-001", "quantity": 1001}]}, {"items[0].quantity"}),
        ({"items": []}, {"items"}),
        ({"totalAmount": 12.5}, {"totalAmount"}),
        ({"totalAmount": "12.5"}, {"totalAmount"}),
        ({"totalAmount": "0.00"}, {"totalAmount"}),
        ({"customerId": "c-1"}, {"customerId"}),  # the customer is the caller, never a body field
        ({"currency": "usd"}, {"currency"}),
        ({"surprise": True}, {"surprise"}),
        ({"items": [{"productId": "P", "quantity": 1}, {"productId": "P", "quantity": 2}]}, {"items"}),
        ({"payment": {}}, {"payment.token"}),
        (
            {"currency": "", "totalAmount": 1, "items": [{"productId": "P", "quantity": "1"}]},
            {"currency", "totalAmount", "items[0].quantity"},
        ),
    ],
)
def test_an_invalid_order_names_each_bad_field_and_changes_nothing(
    tables: Tables, context: LambdaContext, mutation: dict[str, Any], fields: set[str]
) -> None:
    status, headers, body = call(context, "POST", "/orders", {**VALID, **mutation})

    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert {error["field"] for error in body["errors"]} == fields
    assert body["status"] == 400 and body["title"] and body["detail"]
    assert tables.order.items() == tables.order.baseline


def test_a_body_that_is_not_json_is_rejected(tables: Tables, context: LambdaContext) -> None:
    status, _, body = call(context, "POST", "/orders", raw="{not json")
    assert status == 400 and "not valid JSON" in body["detail"]
    assert tables.order.items() == tables.order.baseline


def test_a_body_that_is_not_declared_json_is_rejected(tables: Tables, context: LambdaContext) -> None:
    status, _, _ = call(context, "POST", "/orders", VALID, headers={"Content-Type": "text/plain"})
    assert status == 415
    assert tables.order.items() == tables.order.baseline


def test_a_body_over_64_kb_is_rejected(tables: Tables, context: LambdaContext) -> None:
    status, _, _ = call(context, "POST", "/orders", {**VALID, "padding": "x" * 70_000})
    assert status == 413
    assert tables.order.items() == tables.order.baseline


def test_the_same_key_and_body_replays_the_first_answer(tables: Tables, context: LambdaContext) -> None:
    key = {"Idempotency-Key": "key-1"}
    first = call(context, "POST", "/orders", VALID, headers=key)
    again = call(context, "POST", "/orders", json.loads(json.dumps(VALID)), headers=key)

    assert again[0] == first[0] == 201
    assert again[2] == first[2]
    assert again[1]["Location"] == first[1]["Location"]
    assert len(tables.order.items("ORDER#")) == 1
    assert tables.order.published() == ["OrderCreated"]


def test_the_same_key_with_another_body_conflicts(tables: Tables, context: LambdaContext) -> None:
    key = {"Idempotency-Key": "key-2"}
    call(context, "POST", "/orders", VALID, headers=key)
    status, _, body = call(context, "POST", "/orders", {**VALID, "totalAmount": "1.00"}, headers=key)

    assert status == 409
    assert "different request body" in body["detail"]
    assert len(tables.order.items("ORDER#")) == 1


def test_get_returns_the_order_with_its_saga_view(tables: Tables, context: LambdaContext) -> None:
    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]
    tables.saga._table.put_item(
        Item={
            "pk": f"SAGA#{order_id}",
            "version": 1,
            "view": {"status": "STARTED", "failureReason": None, "steps": [], "timeline": []},
        }
    )

    status, _, body = call(
        context, "GET", f"/orders/{order_id}", resource="/orders/{orderId}", path_parameters={"orderId": order_id}
    )

    assert status == 200
    assert body["orderId"] == order_id and body["status"] == "PENDING"
    assert body["items"] == [{"productId": "PROD-001", "quantity": 2, "unitPrice": "1299.99"}]
    assert body["totalAmount"] == "2599.98"
    assert body["cancellationReason"] is None
    assert {"createdAt", "updatedAt", "deadline"} <= body.keys()
    assert body["saga"]["status"] == "STARTED"


def test_get_of_an_unknown_order_is_404(tables: Tables, context: LambdaContext) -> None:
    status, _, body = call(
        context, "GET", "/orders/nope", resource="/orders/{orderId}", path_parameters={"orderId": "nope"}
    )
    assert status == 404 and "nope" in body["detail"]


def test_a_customer_cancels_a_pending_order_once(tables: Tables, context: LambdaContext) -> None:
    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]
    path = f"/orders/{order_id}/cancel"

    first = call(context, "POST", path, resource="/orders/{orderId}/cancel", path_parameters={"orderId": order_id})
    second = call(context, "POST", path, resource="/orders/{orderId}/cancel", path_parameters={"orderId": order_id})

    assert first[0] == 202
    assert second[0] == 409
    order = tables.order.item(f"ORDER#{order_id}")
    assert order is not None and order["status"] == "CANCELLED" and order["cancellationReason"] == "customer_request"
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]
    created_event, cancelled = (detail for _, detail in tables.order.outbox())
    assert cancelled["data"]["reason"] == "customer_request"
    assert cancelled["metadata"]["causationId"] == created_event["metadata"]["eventId"]


@pytest.mark.parametrize(
    ("failure_reason", "shown", "told"),
    [
        (None, None, "The order was cancelled, and any payment taken is being returned."),
        ("compensation_failed: refund_rejected", "compensation_failed: refund_rejected", "Returning your payment"),
        ("compensation_failed: charge_outcome_unknown", "compensation_failed: charge_outcome_unknown", "not confirm"),
        # A view folded before codes existed, holding an error's text.
        (
            "compensation_failed: User: arn:aws:sts::123456789012:assumed-role/r is not authorized",
            "compensation_failed: unspecified",
            "Part of undoing it is delayed",
        ),
    ],
)
def test_a_cancelled_order_tells_the_customer_a_fixed_sentence_never_an_errors_text(
    tables: Tables, context: LambdaContext, failure_reason: str | None, shown: str | None, told: str
) -> None:
    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]
    call(context, "POST", f"/orders/{order_id}/cancel", resource="/orders/{orderId}/cancel",
         path_parameters={"orderId": order_id})  # fmt: skip
    status = "COMPENSATION_FAILED" if failure_reason else "CANCELLED"
    tables.saga._table.put_item(
        Item={"pk": f"SAGA#{order_id}", "version": 1, "view": {"status": status, "failureReason": failure_reason}}
    )

    _, _, body = call(
        context, "GET", f"/orders/{order_id}", resource="/orders/{orderId}", path_parameters={"orderId": order_id}
    )

    assert body["saga"]["failureReason"] == shown
    assert told in body["message"]
    assert "123456789012" not in json.dumps(body)


def test_an_open_order_has_no_message(tables: Tables, context: LambdaContext) -> None:
    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]

    _, _, body = call(
        context, "GET", f"/orders/{order_id}", resource="/orders/{orderId}", path_parameters={"orderId": order_id}
    )

    assert body["message"] is None


def test_cancelling_an_unknown_order_is_404(tables: Tables, context: LambdaContext) -> None:
    status, _, _ = call(
        context, "POST", "/orders/nope/cancel", resource="/orders/{orderId}/cancel", path_parameters={"orderId": "nope"}
    )
    assert status == 404


def test_another_customers_order_is_answered_as_unknown(tables: Tables, context: LambdaContext) -> None:
    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]
    unknown = str(uuid.uuid4())

    theirs = call(context, "GET", f"/orders/{order_id}", customer="sub-of-customer-b")
    nobodys = call(context, "GET", f"/orders/{unknown}", customer="sub-of-customer-b")
    cancel = call(context, "POST", f"/orders/{order_id}/cancel", customer="sub-of-customer-b")

    assert theirs[0] == nobodys[0] == cancel[0] == 404
    assert theirs[2]["detail"].replace(order_id, "ID") == nobodys[2]["detail"].replace(unknown, "ID")
    assert tables.order.published() == ["OrderCreated"]


def test_idempotency_keys_are_the_customers_own(tables: Tables, context: LambdaContext) -> None:
    key = {"Idempotency-Key": "same-key"}
    first = call(context, "POST", "/orders", VALID, headers=key)
    other = call(context, "POST", "/orders", VALID, headers=key, customer="sub-of-customer-b")

    assert first[0] == other[0] == 201
    assert first[2]["orderId"] != other[2]["orderId"]


@pytest.mark.parametrize("key", ["x" * 256, "tab\there", "é"])
def test_a_bad_idempotency_key_is_refused(tables: Tables, context: LambdaContext, key: str) -> None:
    status, _, body = call(context, "POST", "/orders", VALID, headers={"Idempotency-Key": key})

    assert status == 400
    assert [error["field"] for error in body["errors"]] == ["Idempotency-Key"]
    assert tables.order.items() == tables.order.baseline


def test_an_id_that_cannot_be_an_order_is_404_without_a_lookup(tables: Tables, context: LambdaContext) -> None:
    status, _, body = call(context, "GET", "/orders/" + "x" * 3000)
    assert status == 404 and len(body["detail"]) < 200


def test_a_request_without_a_verified_customer_is_401(tables: Tables, context: LambdaContext) -> None:
    status, _, body = call(context, "POST", "/orders", VALID, customer="")
    assert status == 401 and "Authorization" in body["detail"]
    assert tables.order.items() == tables.order.baseline


def test_an_unexpected_failure_is_a_500_with_the_request_id_and_no_internals(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from order.handlers.wiring import OrderWiring

    def broken(self: OrderWiring) -> Any:
        raise RuntimeError("table arn:aws:dynamodb:secret-table is on fire")

    monkeypatch.setattr(OrderWiring, "unit_of_work", property(broken))
    status, headers, body = call(context, "GET", f"/orders/{uuid.uuid4()}")

    assert status == 500
    assert headers["Content-Type"] == "application/problem+json"
    assert body["requestId"] == "req"
    assert "secret" not in json.dumps(body) and "RuntimeError" not in json.dumps(body)


def test_the_server_prices_an_order_sent_without_a_total(tables: Tables, context: LambdaContext) -> None:
    tables.price({"MOUSE": "59.90"})
    body = {"items": [{"productId": "PROD-001", "quantity": 1}, {"productId": "MOUSE", "quantity": 2}]}

    status, _, answer = call(context, "POST", "/orders", {**body, "payment": {"token": "tok_ok"}})

    assert status == 201
    [(_, detail)] = tables.order.outbox()
    assert detail["data"]["totalAmount"] == "1419.79"
    assert [line["unitPrice"] for line in detail["data"]["items"]] == ["1299.99", "59.90"]
    stored = tables.order.item(f"ORDER#{answer['orderId']}")
    assert stored is not None and stored["totalAmount"] == "1419.79"


def test_a_total_the_customer_set_themselves_is_409_with_the_current_total(
    tables: Tables, context: LambdaContext
) -> None:
    cheap = {**VALID, "items": [{"productId": "PROD-001", "quantity": 1000}], "totalAmount": "0.01"}

    status, headers, body = call(context, "POST", "/orders", cheap)

    assert status == 409 and headers["Content-Type"] == "application/problem+json"
    assert body["totalAmount"] == "1299990.00" and "1299990.00" in body["detail"]
    assert tables.order.items() == tables.order.baseline


def test_an_unknown_product_is_400_naming_the_line_and_writes_nothing(tables: Tables, context: LambdaContext) -> None:
    body = {**VALID, "items": [{"productId": "PROD-001", "quantity": 1}, {"productId": "NOPE", "quantity": 1}]}

    status, _, answer = call(context, "POST", "/orders", body)

    assert status == 400
    assert answer["errors"] == [{"field": "items[1].productId", "message": "no product 'NOPE' in the catalogue"}]
    assert tables.order.items() == tables.order.baseline


def test_another_currency_than_the_catalogues_is_400(tables: Tables, context: LambdaContext) -> None:
    status, _, answer = call(context, "POST", "/orders", {**VALID, "currency": "EUR"})

    assert status == 400 and [error["field"] for error in answer["errors"]] == ["currency"]
    assert tables.order.items() == tables.order.baseline


def test_every_log_line_of_a_step_names_its_order(tables: Tables, context: LambdaContext) -> None:
    from shared.observability import logger

    logged = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(logged)  # type: ignore[attr-defined]
    logger.setLevel("INFO")  # the suite runs at WARNING; a function runs at the stack's LogLevel (INFO)
    try:
        _, _, created = call(context, "POST", "/orders", VALID)
        placing, order_id = logged.getvalue(), created["orderId"]
        logged.truncate(0)
        logged.seek(0)
        call(context, "POST", f"/orders/{order_id}/cancel")
        cancelling = logged.getvalue()
    finally:
        logger.setLevel("WARNING")
        handler.setStream(previous)  # type: ignore[attr-defined]

    for output in (placing, cancelling):
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        assert lines, "nothing logged"
        assert {line.get("correlation_id") for line in lines} == {order_id}


OPERATOR = "arn:aws:iam::000000000000:user/jo-operator"


def operator_cancel(context: LambdaContext, order_id: str, body: Any = None) -> tuple[int, dict[str, Any], Any]:
    """POST /operator/orders/{orderId}/cancel as API Gateway hands on an IAM-signed call (no customer)."""
    return call(
        context,
        "POST",
        f"/operator/orders/{order_id}/cancel",
        body,
        customer=None,
        operator=OPERATOR,
        path_parameters={"orderId": order_id},
        resource="/operator/orders/{orderId}/cancel",
    )


def test_an_operators_cancel_keeps_who_and_why_on_the_order_and_logs_it_at_any_level(
    tables: Tables, context: LambdaContext
) -> None:
    from shared.observability import logger

    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]
    logged = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(logged)  # type: ignore[attr-defined]
    try:  # the suite runs at WARNING, as a function on AWS does by default
        status, _, _ = operator_cancel(context, order_id, {"note": "the customer called support, ticket 4711"})
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]

    assert status == 202
    order = tables.order.item(f"ORDER#{order_id}")
    assert order is not None
    assert (order["cancelledBy"], order["cancellationNote"]) == (OPERATOR, "the customer called support, ticket 4711")
    warnings = [json.loads(line) for line in logged.getvalue().splitlines() if '"WARNING"' in line]
    assert any(w["operator"] == OPERATOR and "4711" in w["note"] for w in warnings)
    _, _, shown = call(context, "GET", f"/orders/{order_id}")  # the customer sees no operator's name
    assert "cancelledBy" not in shown and "cancellationNote" not in shown
    for bad in ({"note": ""}, {"note": "x" * 501}, {"note": "ok", "extra": 1}, {"reason": "x"}):
        _, _, other = call(context, "POST", "/orders", VALID)
        refused, _, problem = operator_cancel(context, other["orderId"], bad)
        assert refused == 400, (bad, problem)


def test_an_operator_cancels_any_customers_pending_order_as_the_customer_would(
    tables: Tables, context: LambdaContext
) -> None:
    _, _, created = call(context, "POST", "/orders", VALID)
    order_id = created["orderId"]

    status, _, body = operator_cancel(context, order_id)

    assert (status, body) == (202, {"orderId": order_id, "status": "CANCELLED", "reason": "customer_request"})
    order = tables.order.item(f"ORDER#{order_id}")
    assert order is not None and (order["status"], order["cancellationReason"]) == ("CANCELLED", "customer_request")
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]
    again, _, problem = operator_cancel(context, order_id)
    assert again == 409 and "CANCELLED" in problem["detail"]


def test_an_operator_cancel_of_an_unknown_or_malformed_order_is_a_404_and_changes_nothing(
    tables: Tables, context: LambdaContext
) -> None:
    for order_id in (str(uuid.uuid4()), "not-a-uuid"):
        status, _, problem = operator_cancel(context, order_id)
        assert status == 404, problem
    assert tables.order.items() == tables.order.baseline


def test_a_post_reads_its_idempotency_key_and_prices_in_one_call(tables: Tables, context: LambdaContext) -> None:
    with dynamodb_calls() as calls:
        status, _, _ = call(context, "POST", "/orders", VALID, headers={"Idempotency-Key": "key-one-read"})
        replay, _, _ = call(context, "POST", "/orders", VALID, headers={"Idempotency-Key": "key-one-read"})

    assert status == 201
    assert replay == 201
    # The new order: one read, then its transaction; the replay: the same one read, and nothing written.
    assert calls == ["BatchGetItem", "TransactWriteItems", "BatchGetItem"]

"""The order REST API: POST /orders, GET /orders/{orderId}, POST /orders/{orderId}/cancel.

Triggered by API Gateway (REST, proxy integration); a placed order emits OrderCreated and a customer
cancel emits OrderCancelled, both through the outbox. Sample requests: events/api/.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import api_settings, saga_views, unit_of_work
from order.logic.finish_order import cancel_on_request
from order.logic.place_order import place_order
from order.models.errors import IdempotencyKeyReused, OrderAlreadyFinal, OrderNotFound
from order.models.order import PlaceOrderRequest
from shared.contracts.envelope import utc_now
from shared.http import RequestRejected, json_response, parse_body, problem_response, rest_resolver
from shared.observability import logger

app = rest_resolver()


@app.exception_handler(OrderNotFound)
def _not_found(error: OrderNotFound) -> Response[str]:
    return problem_response(RequestRejected(404, "Not Found", str(error)))


@app.exception_handler(OrderAlreadyFinal)
def _already_final(error: OrderAlreadyFinal) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", f"{error}; only a PENDING order can be cancelled"))


@app.exception_handler(IdempotencyKeyReused)
def _key_reused(error: IdempotencyKeyReused) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", f"{error}; use a new key for a new order"))


@app.post("/orders")
def create_order() -> Response[str]:
    request = parse_body(app, PlaceOrderRequest)
    headers = {name.lower(): value for name, value in (app.current_event.headers or {}).items()}
    key = headers.get("idempotency-key") or None
    if key is not None and not 1 <= len(key) <= 128:
        raise RequestRejected(
            400,
            "Bad Request",
            "Idempotency-Key must be 1 to 128 characters",
            [{"field": "Idempotency-Key", "message": "must be 1 to 128 characters"}],
        )
    answer = place_order(
        request,
        idempotency_key=key,
        uow=unit_of_work(),
        now=utc_now(),
        deadline_seconds=api_settings().deadline_seconds,
    )
    return json_response(answer.status, answer.body, answer.headers)


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response[str]:
    order = unit_of_work().orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    body: dict[str, Any] = order.to_wire()
    body.pop("createdEventId", None)
    view = saga_views().get(order_id)
    body["saga"] = view.to_wire() if view else None
    return json_response(200, body)


@app.post("/orders/<order_id>/cancel")
def cancel_order(order_id: str) -> Response[str]:
    order = cancel_on_request(order_id, reason="customer_request", uow=unit_of_work(), now=utc_now())
    return json_response(202, {"orderId": order.order_id, "status": "CANCELLED", "reason": "customer_request"})


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway proxy event in, proxy response out."""
    return app.resolve(event, context)

"""The order REST API for signed-in customers: POST /orders, GET /orders/{orderId},
POST /orders/{orderId}/cancel; and for operators (IAM-signed), POST /operator/orders/{orderId}/cancel.

Triggered by API Gateway (REST, proxy integration, Cognito user-pool authorizer: the caller is the
token's `sub`); a placed order emits OrderCreated and a customer cancel emits OrderCancelled, both
through the outbox. Another customer's order is answered exactly as an unknown one. Requests are
validated against the models below, which also make the OpenAPI document (`docs/openapi.json`).
Sample requests: events/api/.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.finish_order import cancel_on_request
from order.logic.place_order import place_order
from order.models.errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    OrderAlreadyFinal,
    OrderNotFound,
    TotalMismatch,
    TotalTooLarge,
    UnknownProducts,
)
from order.models.order import (
    CancelAccepted,
    OperatorCancelRequest,
    Order,
    OrderAccepted,
    OrderStatus,
    OrderView,
    PlaceOrderRequest,
)
from shared.http import (
    CUSTOMER,
    OPERATOR,
    RequestRejected,
    bad_request,
    caller_id,
    json_response,
    problem_response,
    responses,
    rest_resolver,
    serve,
)
from shared.observability import logger, tracer
from shop_contracts.envelope import utc_now

app = rest_resolver()
# 1 to 255 printable ASCII characters: what the header may carry, and what a key may be.
IDEMPOTENCY_KEY = r"^[\x20-\x7E]{1,255}$"
# Not validated here: an id that cannot be an order is answered like an unknown one, with 404.
OrderIdParam = Annotated[str, Path(alias="orderId", description="the order's id (a UUID)")]


@app.exception_handler(OrderNotFound)
def _not_found(error: OrderNotFound) -> Response[str]:
    return problem_response(RequestRejected(404, "Not Found", str(error)))


@app.exception_handler(OrderAlreadyFinal)
def _already_final(error: OrderAlreadyFinal) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", f"{error}; only a PENDING order can be cancelled"))


@app.exception_handler(IdempotencyKeyInFlight)
def _key_in_flight(error: IdempotencyKeyInFlight) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", f"{error}; retry in a moment to get its answer"))


@app.exception_handler(IdempotencyKeyReused)
def _key_reused(error: IdempotencyKeyReused) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", f"{error}; use a new key for a new order"))


@app.exception_handler(UnknownProducts)
def _unknown_products(error: UnknownProducts) -> Response[str]:
    return problem_response(
        bad_request(
            [
                {"field": f"items[{index}].productId", "message": f"no product {product_id!r} in the catalogue"}
                for index, product_id in error.lines
            ]
        )
    )


@app.exception_handler(TotalTooLarge)
def _too_large(error: TotalTooLarge) -> Response[str]:
    return problem_response(bad_request([{"field": "items", "message": str(error)}]))


@app.exception_handler(TotalMismatch)
def _total_mismatch(error: TotalMismatch) -> Response[str]:
    return problem_response(
        RequestRejected(409, "Conflict", str(error), extensions={"totalAmount": f"{error.total:.2f}"})
    )


def _own_order(order_id: str) -> Order:
    logger.append_keys(correlation_id=order_id[:64])
    """The caller's order; anything else, even another customer's order, is not found."""
    try:
        uuid.UUID(order_id)
    except ValueError:
        raise OrderNotFound(order_id[:64]) from None
    order = wiring.unit_of_work.orders.get(order_id)
    if order is None or order.customer_id != caller_id(app):
        raise OrderNotFound(order_id)
    return order


@app.post(
    "/orders",
    summary="Place an order",
    description=(
        "The server prices the order from its own copy of the catalogue's prices, which follows a price change "
        "within seconds: an order placed in that window is priced, and charged, at the price the copy still "
        "holds. Send `totalAmount` (the total the customer was shown) to be sure: if the current total differs, "
        "the answer is 409 with the current total in `totalAmount` and nothing is placed. A product the "
        "catalogue does not know is 400 naming the line."
    ),
    security=CUSTOMER,
    responses=responses(
        201,
        "the order is placed, PENDING",
        OrderAccepted,
        400,
        401,
        403,
        409,
        413,
        415,
        500,
        headers={"Location": "the new order: /orders/{orderId}"},
    ),
)
def create_order(
    order: PlaceOrderRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY,
            description="Replays the first answer for the same body; 409 for another body (24 hours).",
        ),
    ] = None,
) -> Response[str]:
    answer = place_order(
        order,
        customer_id=caller_id(app),
        idempotency_key=idempotency_key,
        uow=wiring.unit_of_work,
        sealer=wiring.token_sealer,
        now=utc_now(),
        deadline_seconds=wiring.api_settings.deadline_seconds,
    )
    # A replay is answered as the first request was: the same order, still 201 (RFC 9110 leaves the status
    # of a repeated POST to the server; clients retry on a lost answer and must see what the first saw).
    return json_response(201, answer.to_wire(), {"Location": f"/orders/{answer.order_id}"})


@app.get(
    "/orders/<orderId>",
    summary="An order and its saga",
    security=CUSTOMER,
    responses=responses(200, "the order and its saga view", OrderView, 401, 403, 404, 500),
)
def get_order(order_id: OrderIdParam) -> Response[str]:
    logger.append_keys(correlation_id=order_id[:64])
    try:
        uuid.UUID(order_id)
    except ValueError:
        raise OrderNotFound(order_id[:64]) from None
    order, view = wiring.unit_of_work.orders.get_with_view(order_id, wiring.saga_views)
    if order is None or order.customer_id != caller_id(app):
        raise OrderNotFound(order_id)
    return json_response(200, OrderView.of(order, view).to_wire())


@app.post(
    "/orders/<orderId>/cancel",
    summary="Cancel a pending order",
    security=CUSTOMER,
    responses=responses(202, "cancelled; compensation follows", CancelAccepted, 401, 403, 404, 409, 413, 415, 500),
)
def cancel_order(order_id: OrderIdParam) -> Response[str]:
    order = _own_order(order_id)
    cancel_on_request(order.order_id, reason="customer_request", uow=wiring.unit_of_work, now=utc_now())
    body = CancelAccepted(order_id=order.order_id, status=OrderStatus.CANCELLED, reason="customer_request")
    return json_response(202, body.to_wire())


@app.post(
    "/operator/orders/<orderId>/cancel",
    summary="An operator cancels an in-flight order on the customer's behalf",
    description=(
        "As the customer's own cancel, for any customer's pending order (a stuck saga, a support request): "
        "the order is cancelled with reason customer_request and payment and inventory compensate. The operator's "
        "IAM principal and the `note` are kept on the order (not shown to the customer) and logged. "
        "409 once the order is final (a saga stuck in its compensation needs a redrive, not a cancel)."
    ),
    security=OPERATOR,
    responses=responses(202, "cancelled; compensation follows", CancelAccepted, 400, 403, 404, 409, 413, 415, 500),
)
def operator_cancel_order(
    order_id: OrderIdParam, request: Annotated[OperatorCancelRequest | None, Body()] = None
) -> Response[str]:
    try:
        uuid.UUID(order_id)
    except ValueError:
        raise OrderNotFound(order_id[:64]) from None
    logger.append_keys(correlation_id=order_id)
    # API Gateway verified the signature: the caller is this IAM principal.
    identity = app.current_event.request_context.identity
    operator = identity.user_arn or identity.caller or "unknown"
    note = request.note if request else "no reason given"
    cancel_on_request(
        order_id, reason="customer_request", uow=wiring.unit_of_work, now=utc_now(), operator=operator, note=note
    )
    body = CancelAccepted(order_id=order_id, status=OrderStatus.CANCELLED, reason="customer_request")
    return json_response(202, body.to_wire())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway proxy event in, proxy response out."""
    return serve(app, event, context)

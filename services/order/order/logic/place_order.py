"""Place an order: store it as PENDING and emit OrderCreated in the same commit (POST /orders).

The order is priced from the order service's copy of the catalogue (each line's unit price and the total
are stored and announced; payment charges that total). The customer's payment token is sealed for the
payment service before it enters the event; the order service keeps no copy of it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import uuid4

from order.dal.order_repository import AcceptedRequest, OrderUnitOfWork
from order.models.catalogue import price_lines
from order.models.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, IdempotencyKeyTaken, TotalMismatch
from order.models.order import Order, OrderAccepted, OrderStatus, PlaceOrderRequest
from shared.errors import WriteContention
from shared.observability import logger
from shop_contracts.order import OrderCreated

if TYPE_CHECKING:
    from shared.payment_tokens import TokenSealer


def request_fingerprint(request: PlaceOrderRequest) -> str:
    """A hash of the request's meaning: the same body, however it was spaced or ordered, hashes the same."""
    canonical = json.dumps(request.to_wire(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    request: PlaceOrderRequest,
    *,
    customer_id: str,
    idempotency_key: str | None,
    uow: OrderUnitOfWork,
    sealer: TokenSealer,
    now: datetime,
    deadline_seconds: int,
) -> OrderAccepted:
    """A valid request creates exactly one order for its customer; a replay under the same Idempotency-Key
    (the customer's own: two customers' equal keys never meet) is answered with the same order.

    Raises
    ------
    IdempotencyKeyReused
        When the key was first used with a different body.
    IdempotencyKeyInFlight
        When a request with the same key is being committed at the same moment (its answer is not kept yet).
    UnknownProducts
        When lines name products the catalogue copy has no price for.
    TotalMismatch
        When the client sent a `totalAmount` other than the order's total at the current prices.
    TotalTooLarge
        When the total is above what one order may cost.
    """
    fingerprint = request_fingerprint(request)
    # Keys are scoped to the customer who sent them.
    idempotency_key = f"{customer_id}#{idempotency_key}" if idempotency_key else None
    lines = request.lines()
    earlier, prices = uow.accepted_requests.get_with_prices(
        idempotency_key, [line.product_id for line in lines], now=now.timestamp()
    )
    if earlier and idempotency_key:
        return _replay(earlier, fingerprint, idempotency_key)

    items, total = price_lines(lines, prices)
    if request.total_amount is not None and request.total_amount != total:
        raise TotalMismatch(request.total_amount, total)
    order_id = str(uuid4())
    deadline = now + timedelta(seconds=deadline_seconds)
    try:
        with uow.starting(order_id) as step:
            if idempotency_key:
                accepted = AcceptedRequest(request_hash=fingerprint, order_id=order_id)
                step.accepted_requests.remember(idempotency_key, accepted, now=now.timestamp())
            created = step.emit(
                OrderCreated(
                    order_id=order_id,
                    customer_id=customer_id,
                    items=items,
                    total_amount=total,
                    currency=request.currency,
                    deadline=deadline,
                    encrypted_payment_token=sealer.seal(request.payment.token, order_id=order_id),
                )
            )
            step.orders.add(Order.placed(created))
    except IdempotencyKeyTaken:
        # A concurrent request with the same key committed first: answer as its replay would.
        earlier = uow.accepted_requests.get(idempotency_key or "", now=now.timestamp())
        if earlier is None:
            raise
        return _replay(earlier, fingerprint, idempotency_key or "")
    except WriteContention:
        if not idempotency_key:
            raise
        # DynamoDB cancels one of two transactions on the same key record at once (TransactionConflict): the
        # other request is in flight. Nothing was written; the client retries and gets its answer.
        if (earlier := uow.accepted_requests.get(idempotency_key, now=now.timestamp())) is not None:
            return _replay(earlier, fingerprint, idempotency_key)
        raise IdempotencyKeyInFlight(idempotency_key.split("#", 1)[-1]) from None
    logger.info("order placed", order_id=order_id, lines=len(request.items))
    return OrderAccepted(order_id=order_id, status=OrderStatus.PENDING)


def _replay(earlier: AcceptedRequest, fingerprint: str, key: str) -> OrderAccepted:
    if earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused(key.split("#", 1)[-1])
    logger.info("idempotent replay", order_id=earlier.order_id)
    # The first answer again: the order as it was accepted, whatever it has become since.
    return OrderAccepted(order_id=earlier.order_id, status=OrderStatus.PENDING)

"""End an order: confirm it when every line is reserved, cancel it on a failure, a request or its deadline.

Triggered by InventoryReserved (confirm), PaymentFailed and InventoryFailed (cancel), and by the
customer's `POST /orders/{id}/cancel`; emits OrderConfirmed or OrderCancelled in the same transaction
as the status change. Only a PENDING order moves, so replays and late events change nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from order.dal.order_repository import OrderRepository
from order.models.errors import DeadlineNotReached, OrderAlreadyFinal, OrderNotFound
from order.models.order import Order, OrderStatus
from shared.contracts.base import DomainEvent
from shared.contracts.envelope import Envelope, EventMetadata, caused_by
from shared.contracts.inventory import InventoryFailed, InventoryReserved
from shared.contracts.order import CancellationReason, OrderCancelled, OrderConfirmed
from shared.contracts.payment import PaymentFailed
from shared.errors import TransactionConflict
from shared.observability import logger


def confirm_order(cause: Envelope[InventoryReserved], *, orders: OrderRepository, now: datetime) -> None:
    """Every line is reserved: a pending order is confirmed."""
    order = _pending_order(cause.data.order_id, orders)
    if order is not None:
        _finish(order, OrderStatus.CONFIRMED, None, cause.metadata, consumed=cause, orders=orders, now=now)


def cancel_on_payment_failed(cause: Envelope[PaymentFailed], *, orders: OrderRepository, now: datetime) -> None:
    """The charge was declined: a pending order is cancelled with reason `payment_declined`."""
    order = _pending_order(cause.data.order_id, orders)
    if order is not None:
        _finish(
            order, OrderStatus.CANCELLED, "payment_declined", cause.metadata, consumed=cause, orders=orders, now=now
        )


def cancel_on_inventory_failed(cause: Envelope[InventoryFailed], *, orders: OrderRepository, now: datetime) -> None:
    """A line was short: a pending order is cancelled with reason `out_of_stock`."""
    order = _pending_order(cause.data.order_id, orders)
    if order is not None:
        _finish(order, OrderStatus.CANCELLED, "out_of_stock", cause.metadata, consumed=cause, orders=orders, now=now)


def cancel_on_request(order_id: str, *, reason: CancellationReason, orders: OrderRepository, now: datetime) -> Order:
    """The customer (or the deadline) cancels a pending order; payment and inventory then compensate.

    Raises
    ------
    OrderNotFound
        No such order.
    OrderAlreadyFinal
        The order is confirmed or cancelled already.
    """
    order = orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if order.is_terminal:
        raise OrderAlreadyFinal(order_id, order.status.value)
    # Nothing on the bus caused this; the saga's first event is what it reacts to.
    origin = EventMetadata(correlation_id=order_id, event_id=order.created_event_id)
    if not _finish(order, OrderStatus.CANCELLED, reason, origin, consumed=None, orders=orders, now=now):
        current = orders.get(order_id)
        raise OrderAlreadyFinal(order_id, current.status.value if current else "gone")
    return order


def _pending_order(order_id: str, orders: OrderRepository) -> Order | None:
    order = orders.get(order_id)
    if order is None:
        # The order is written before OrderCreated leaves, so this is a foreign or corrupt event.
        raise OrderNotFound(order_id)
    if order.is_terminal:
        logger.info("order already final; event changes nothing", status=order.status.value)
        return None
    return order


def _finish(
    order: Order,
    status: OrderStatus,
    reason: CancellationReason | None,
    reacting_to: EventMetadata,
    *,
    consumed: Envelope[Any] | None,
    orders: OrderRepository,
    now: datetime,
) -> bool:
    outcome: DomainEvent = (
        OrderConfirmed(order_id=order.order_id)
        if status is OrderStatus.CONFIRMED
        else OrderCancelled(order_id=order.order_id, reason=reason or "customer_request")
    )
    tx = orders.transaction()
    if consumed:
        tx.consume(consumed)
    orders.finish(tx, order, status, at=now, reason=reason)
    tx.emit(caused_by(outcome, reacting_to))
    try:
        orders.commit(tx)
    except TransactionConflict:
        logger.info("order ended concurrently; nothing changed", wanted=status.value)
        return False
    logger.info("order finished", status=status.value, reason=reason)
    return True


def expire_order(order_id: str, *, orders: OrderRepository, now: datetime) -> bool:
    """An order still pending at its deadline is cancelled with reason `timeout`; returns whether it was.

    A deadline for an order already ended changes nothing.

    Raises
    ------
    DeadlineNotReached
        When the order is pending but its deadline is still ahead (the schedule fired early, or a
        manual invoke): the delivery is retried later rather than dropped, so the order cannot be lost.
    """
    order = orders.get(order_id)
    if order is None:
        logger.warning("deadline for an unknown order", order_id=order_id)
        return False
    if order.is_terminal:
        logger.info("order already final; deadline changes nothing", status=order.status.value)
        return False
    if not order.is_overdue(now):
        raise DeadlineNotReached(order_id, order.deadline.isoformat())
    try:
        cancel_on_request(order_id, reason="timeout", orders=orders, now=now)
    except OrderAlreadyFinal:
        return False
    logger.info("order timed out and was cancelled")
    return True

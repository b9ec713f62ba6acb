"""End an order: confirm it once it is both paid and reserved, cancel it on a failure, a request or its
deadline.

Triggered by PaymentProcessed and InventoryReserved (confirm, by whichever arrives second),
PaymentFailed and InventoryFailed (cancel), by the customer's `POST /orders/{id}/cancel` and by the
order's deadline; emits OrderConfirmed or OrderCancelled in the same commit as the status change. Only a
PENDING order moves, so replays and late events change nothing; the order decides by what it has seen
itself, so a forged or misrouted reservation (no payment, other lines) confirms nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from order.dal.order_repository import OrderStep, OrderUnitOfWork
from order.models.errors import DeadlineNotReached, OrderAlreadyFinal, OrderNotFound
from order.models.order import Order, OrderStatus
from shared.errors import OrderChangedConcurrently
from shared.observability import logger
from shop_contracts.base import merge_lines
from shop_contracts.envelope import Envelope, EventMetadata
from shop_contracts.inventory import InventoryFailed, InventoryReserved
from shop_contracts.order import CancellationReason, OrderCancelled, OrderConfirmed
from shop_contracts.payment import PaymentFailed, PaymentProcessed


def confirm_or_note_payment(cause: Envelope[PaymentProcessed], *, uow: OrderUnitOfWork, now: datetime) -> None:
    """The order was paid its total: confirmed if its lines are reserved already, else noted.

    Raises
    ------
    OrderChangedConcurrently
        When the reservation was noted between our read and our write; the retry confirms.
    """
    order = _known_order(cause.data.order_id, uow)
    if order.is_terminal:
        logger.info("order already final; payment changes nothing", status=order.status.value)
        return
    if cause.data.amount != order.total_amount:
        logger.error("payment refused: it is not this order's total", paid=str(cause.data.amount))
        return
    with uow.reacting_to(cause) as step:
        if order.reserved:
            _finish(step, order, OrderStatus.CONFIRMED, None, now, payment_id=cause.data.payment_id)
        else:
            step.orders.record_payment(order, cause.data.payment_id)
            logger.info("order paid; waiting for its reservation")


def confirm_or_note_reservation(cause: Envelope[InventoryReserved], *, uow: OrderUnitOfWork, now: datetime) -> None:
    """Every line is reserved: confirmed if the order is paid already, else noted.

    Raises
    ------
    OrderChangedConcurrently
        When the payment was noted between our read and our write; the retry confirms.
    """
    order = _known_order(cause.data.order_id, uow)
    if order.is_terminal:
        logger.info("order already final; reservation changes nothing", status=order.status.value)
        return
    if merge_lines(cause.data.items) != merge_lines(order.items):
        logger.error("reservation refused: it does not hold this order's lines")
        return
    with uow.reacting_to(cause) as step:
        if order.payment_id:
            _finish(step, order, OrderStatus.CONFIRMED, None, now)
        else:
            step.orders.record_reservation(order)
            logger.info("order reserved; waiting for its payment")


def cancel_on_payment_failed(cause: Envelope[PaymentFailed], *, uow: OrderUnitOfWork, now: datetime) -> None:
    """The charge was declined: a pending order is cancelled with reason `payment_declined`."""
    _react(cause, OrderStatus.CANCELLED, "payment_declined", uow=uow, now=now)


def cancel_on_inventory_failed(cause: Envelope[InventoryFailed], *, uow: OrderUnitOfWork, now: datetime) -> None:
    """A line was short: a pending order is cancelled with reason `out_of_stock`."""
    _react(cause, OrderStatus.CANCELLED, "out_of_stock", uow=uow, now=now)


def cancel_on_request(
    order_id: str,
    *,
    reason: CancellationReason,
    uow: OrderUnitOfWork,
    now: datetime,
    operator: str | None = None,
    note: str | None = None,
) -> Order:
    """The customer, or an operator on their behalf (`operator`: their IAM principal, with a `note` of why),
    cancels a pending order; payment and inventory then compensate.

    Raises
    ------
    OrderNotFound
        No such order.
    OrderAlreadyFinal
        The order is confirmed or cancelled already.
    """
    order = uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if order.is_terminal:
        raise OrderAlreadyFinal(order_id, order.status.value)
    # Nothing on the bus caused this; the saga's first event is what it follows from.
    origin = EventMetadata(correlation_id=order_id, event_id=order.created_event_id)
    try:
        with uow.acting_for(origin) as step:
            _finish(step, order, OrderStatus.CANCELLED, reason, now, cancelled_by=operator, note=note)
    except OrderChangedConcurrently:
        current = uow.orders.get(order_id)
        raise OrderAlreadyFinal(order_id, current.status.value if current else "gone") from None
    if operator:
        # At any log level: a cancel no customer asked for is an operator's act someone may need to account for.
        logger.warning("order cancelled by an operator", operator=operator, note=note, reason=reason)
    else:
        logger.info("order cancelled on request", reason=reason)
    return order


def expire_order(order_id: str, *, uow: OrderUnitOfWork, now: datetime) -> bool:
    """An order still pending at its deadline is cancelled with reason `timeout`; returns whether it was.

    A deadline for an order already ended changes nothing.

    Raises
    ------
    DeadlineNotReached
        When the order is pending but its deadline is still ahead (the schedule fired early, or a
        manual invoke): the delivery is retried later rather than dropped, so the order cannot be lost.
    """
    order = uow.orders.get(order_id)
    if order is None:
        logger.warning("deadline for an unknown order", order_id=order_id)
        return False
    if order.is_terminal:
        logger.info("order already final; deadline changes nothing", status=order.status.value)
        return False
    if not order.is_overdue(now):
        raise DeadlineNotReached(order_id, order.deadline.isoformat())
    try:
        cancel_on_request(order_id, reason="timeout", uow=uow, now=now)
    except OrderAlreadyFinal:
        return False
    logger.info("order timed out and was cancelled")
    return True


def _known_order(order_id: str, uow: OrderUnitOfWork) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        # The order is written before OrderCreated leaves, so this is a foreign or corrupt event.
        raise OrderNotFound(order_id)
    return order


def _react(
    cause: Envelope[Any], status: OrderStatus, reason: CancellationReason | None, *, uow: OrderUnitOfWork, now: datetime
) -> None:
    order = _known_order(cause.data.order_id, uow)
    if order.is_terminal:
        logger.info("order already final; event changes nothing", status=order.status.value)
        return
    try:
        with uow.reacting_to(cause) as step:
            _finish(step, order, status, reason, now)
    except OrderChangedConcurrently:
        logger.info("order ended concurrently; nothing changed", wanted=status.value)


def _finish(
    step: OrderStep,
    order: Order,
    status: OrderStatus,
    reason: CancellationReason | None,
    now: datetime,
    *,
    payment_id: str | None = None,
    cancelled_by: str | None = None,
    note: str | None = None,
) -> None:
    step.orders.finish(
        order, status, at=now, reason=reason, payment_id=payment_id, cancelled_by=cancelled_by, cancellation_note=note
    )
    if status is OrderStatus.CONFIRMED:
        step.emit(OrderConfirmed(order_id=order.order_id))
    else:
        step.emit(OrderCancelled(order_id=order.order_id, reason=reason or "customer_request"))
    logger.info("order finished", status=status.value, reason=reason)

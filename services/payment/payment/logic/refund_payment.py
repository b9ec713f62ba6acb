"""Refund an order's charge once, when inventory could not reserve it or the order was cancelled.

Triggered by InventoryFailed and OrderCancelled; emits PaymentRefunded, or CompensationFailed when the
gateway keeps refusing the refund. With nothing charged it changes nothing, except that a cancelled
order is voided so a late OrderCreated will not charge it.
"""

from __future__ import annotations

from typing import Any

from payment.dal.payment_repository import PaymentRepository
from payment.models.gateway import RefundRejected, SimulatedGateway
from payment.models.payment import Payment, PaymentStatus
from shared.contracts.base import DomainEvent
from shared.contracts.compensation import CompensationFailed
from shared.contracts.envelope import Envelope, caused_by
from shared.contracts.order import OrderCancelled
from shared.contracts.payment import PaymentRefunded
from shared.errors import TransactionConflict
from shared.observability import logger


class PaymentChangedConcurrently(Exception):
    """The payment record changed between read and write; the delivery is retried."""


def refund_payment(
    cause: Envelope[Any],
    *,
    order_id: str,
    payments: PaymentRepository,
    gateway: SimulatedGateway,
    last_attempt: bool,
) -> None:
    """Money taken for an order that will not be fulfilled goes back, exactly once.

    Raises
    ------
    RefundRejected
        When the gateway refuses; on the last attempt CompensationFailed is recorded first.
    PaymentChangedConcurrently
        When the record changed under us; the redelivery sees the new state.
    """
    payment = payments.get(order_id)
    if payment is None:
        if isinstance(cause.data, OrderCancelled):
            _void(cause, order_id, payments)
        return
    if payment.status is PaymentStatus.PENDING and isinstance(cause.data, OrderCancelled):
        tx = payments.transaction()
        tx.consume(cause)
        payments.move(tx, payment, PaymentStatus.VOIDED, reason="cancelled_while_pending")
        try:
            payments.commit(tx)
        except TransactionConflict as exc:
            raise PaymentChangedConcurrently(order_id) from exc
        logger.info("pending authorisation voided")
        return
    if not payment.holds_money:
        logger.info("nothing to refund", status=payment.status.value)
        return
    assert payment.token is not None and payment.payment_id is not None and payment.amount is not None
    try:
        gateway.refund(token=payment.token)
    except RefundRejected as exc:
        if last_attempt and payment.status is PaymentStatus.CHARGED:
            _record_refund_failure(cause, payment, str(exc), payments)
        raise
    tx = payments.transaction()
    tx.consume(cause)
    payments.move(tx, payment, PaymentStatus.REFUNDED)
    tx.emit(
        caused_by(
            PaymentRefunded(order_id=order_id, payment_id=payment.payment_id, amount=payment.amount), cause.metadata
        )
    )
    try:
        payments.commit(tx)
    except TransactionConflict as exc:
        raise PaymentChangedConcurrently(order_id) from exc
    logger.info("charge refunded", amount=str(payment.amount))


def _void(cause: Envelope[DomainEvent], order_id: str, payments: PaymentRepository) -> None:
    tx = payments.transaction()
    tx.consume(cause)
    payments.add(tx, Payment(order_id=order_id, status=PaymentStatus.VOIDED, reason="cancelled_before_charge"))
    try:
        payments.commit(tx)
    except TransactionConflict as exc:
        # OrderCreated was charged meanwhile: the retry refunds it.
        raise PaymentChangedConcurrently(order_id) from exc
    logger.info("order voided before any charge")


def _record_refund_failure(
    cause: Envelope[DomainEvent], payment: Payment, reason: str, payments: PaymentRepository
) -> None:
    # Not consumed: after a fix, a redrive of the DLQ message retries the refund from REFUND_FAILED.
    tx = payments.transaction()
    payments.move(tx, payment, PaymentStatus.REFUND_FAILED, reason=reason)
    tx.emit(
        caused_by(CompensationFailed(order_id=payment.order_id, step="refund_payment", reason=reason), cause.metadata)
    )
    try:
        payments.commit(tx)
    except TransactionConflict:
        return
    logger.error("refund failed for good; CompensationFailed published", reason=reason)

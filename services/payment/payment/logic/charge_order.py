"""Charge a newly created order once; emits PaymentProcessed (approved) or PaymentFailed (declined).

Triggered by OrderCreated. The payment record is keyed by order, so a redelivered or duplicated
OrderCreated can never charge twice, and an order voided by an earlier OrderCancelled is never charged.
"""

from __future__ import annotations

from uuid import uuid4

from payment.dal.payment_repository import PaymentRepository
from payment.models.gateway import SimulatedGateway
from payment.models.payment import Payment, PaymentStatus
from shared.contracts.envelope import Envelope, caused_by
from shared.contracts.order import OrderCreated
from shared.contracts.payment import PaymentFailed, PaymentProcessed
from shared.errors import TransactionConflict
from shared.observability import logger


def charge_order(cause: Envelope[OrderCreated], *, payments: PaymentRepository, gateway: SimulatedGateway) -> None:
    """An order is charged its total exactly once, unless it was cancelled first."""
    order = cause.data
    existing = payments.get(order.order_id)
    if existing is not None and payments.dedupe:
        logger.info("order already has a payment record; nothing to charge", status=existing.status.value)
        return
    decision = gateway.charge(order_id=order.order_id, token=order.payment_token)
    tx = payments.transaction()
    tx.consume(cause)
    if decision.pending:
        payments.add(tx, Payment(order_id=order.order_id, status=PaymentStatus.PENDING, reason="authorisation_pending"))
        try:
            payments.commit(tx)
        except TransactionConflict:
            logger.info("payment record appeared concurrently; nothing charged")
            return
        logger.info("authorisation pending; nothing charged yet")
        return
    if decision.approved:
        payment = Payment(
            order_id=order.order_id,
            status=PaymentStatus.CHARGED,
            payment_id=str(uuid4()),
            amount=order.total_amount,
            token=order.payment_token,
            items=order.items,
        )
        assert payment.payment_id is not None
        outcome: PaymentProcessed | PaymentFailed = PaymentProcessed(
            order_id=order.order_id, payment_id=payment.payment_id, amount=order.total_amount, items=order.items
        )
    else:
        reason = decision.reason or "declined"
        payment = Payment(order_id=order.order_id, status=PaymentStatus.DECLINED, reason=reason)
        outcome = PaymentFailed(order_id=order.order_id, reason=reason)
    payments.add(tx, payment)
    tx.emit(caused_by(outcome, cause.metadata))
    try:
        payments.commit(tx)
    except TransactionConflict:
        # A concurrent delivery charged it, or a cancellation voided it, first.
        logger.info("payment record appeared concurrently; nothing charged")
        return
    logger.info("order charged" if decision.approved else "charge declined", reason=decision.reason)

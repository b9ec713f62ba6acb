"""Settle the charge of a confirmed order: it is the customer's purchase now, never to be refunded; emits
nothing.

Triggered by OrderConfirmed. A later OrderCancelled for the same order can only be forged or misrouted
(the order service never cancels a confirmed order), and the refund logic refuses to act on it.
"""

from __future__ import annotations

from payment.dal.payment_repository import PaymentUnitOfWork
from payment.models.payment import PaymentStatus
from shared.observability import logger
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderConfirmed


def settle_payment(cause: Envelope[OrderConfirmed], *, uow: PaymentUnitOfWork) -> None:
    """A charged payment of a confirmed order becomes SETTLED, once.

    Raises
    ------
    PaymentChangedConcurrently
        When the record changed under us; the redelivery sees the new state.
    """
    payment = uow.payments.get(cause.data.order_id)
    if payment is not None and payment.status is PaymentStatus.SETTLED:
        # A redelivery of this confirmation (or a copy of it): the charge it settles is settled.
        logger.info("charge already settled")
        return
    if payment is None or payment.status is not PaymentStatus.CHARGED:
        # Confirmed without a charge here, or refunded first: someone spoke for another service.
        logger.error("confirmation refused: no charge to settle", status=payment and payment.status.value)
        return
    with uow.reacting_to(cause) as step:
        step.payments.move(payment, PaymentStatus.SETTLED)
    logger.info("charge settled")

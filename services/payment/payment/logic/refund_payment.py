"""Refund a cancelled order's charge once; emits PaymentRefunded, or CompensationFailed when it cannot.

Triggered by OrderCancelled, the one authority on cancellation. The refund is claimed first (CHARGED ->
REFUNDING), the gateway is called with the payment id as its idempotency key, then REFUNDED commits with
the event. With nothing charged it changes nothing, except that the order is voided so a late
OrderCreated charges nothing. A refund still failing on its last delivery, whatever the cause, is
recorded as REFUND_FAILED with a CompensationFailed event; a redrive after a fix refunds it.
"""

from __future__ import annotations

from datetime import datetime

from payment.dal.payment_repository import PaymentUnitOfWork
from payment.models.gateway import PaymentGateway, RefundRejected
from payment.models.payment import Payment, PaymentStatus
from shared.errors import DuplicateEvent, PaymentChangedConcurrently
from shared.observability import logger
from shop_contracts.compensation import CompensationFailed, CompensationFailureCode
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCancelled
from shop_contracts.payment import PaymentRefunded, PaymentVoided

_REFUNDABLE = {PaymentStatus.CHARGED, PaymentStatus.REFUND_FAILED}


def refund_payment(
    cause: Envelope[OrderCancelled], *, uow: PaymentUnitOfWork, gateway: PaymentGateway, now: datetime
) -> None:
    """Money taken for an order that will not be fulfilled goes back, exactly once.

    Raises
    ------
    RefundRejected
        When the gateway refuses; the delivery is retried.
    PaymentChangedConcurrently
        When the record changed under us, a charge is still in flight, or another delivery holds a live
        claim on the refund; the redelivery sees the new state.
    """
    order_id = cause.data.order_id
    payment = uow.payments.get(order_id)
    if payment is None:
        with uow.reacting_to(cause) as step:
            step.payments.add(Payment(order_id=order_id, status=PaymentStatus.VOIDED, reason="cancelled_before_charge"))
            step.emit(PaymentVoided(order_id=order_id, reason="cancelled_before_charge"))
        logger.info("order voided before any charge")
        return
    if payment.status is PaymentStatus.CHARGING:
        # The charge is being decided right now; once it is, the retry refunds or voids it (and should it never
        # be, the last delivery reports it: report_refund_failure).
        raise PaymentChangedConcurrently(order_id)
    if payment.status is PaymentStatus.OUTCOME_UNKNOWN:
        # No retry can refund a charge nobody knows was made: operators reconcile it with the provider.
        with uow.reacting_to(cause) as step:
            step.emit(CompensationFailed.because(order_id, "refund_payment", "charge_outcome_unknown"))
        logger.error("refund impossible: the charge's outcome is unknown; CompensationFailed published")
        return
    if payment.status is PaymentStatus.SETTLED:
        # The order service confirmed this order; it never cancels a confirmed one.
        logger.error("refund refused: the order was confirmed, so this cancel is forged or misrouted")
        return
    if payment.status is PaymentStatus.PENDING:
        with uow.reacting_to(cause) as step:
            step.payments.move(payment, PaymentStatus.VOIDED, reason="cancelled_while_pending")
            step.emit(PaymentVoided(order_id=order_id, reason="cancelled_while_pending"))
        logger.info("pending authorisation voided")
        return
    if not payment.holds_money:
        logger.info("nothing to refund", status=payment.status.value)
        return
    if payment.status not in _REFUNDABLE and not payment.claim_is_free(now.timestamp()):
        raise PaymentChangedConcurrently(order_id)  # another delivery is refunding right now
    with uow.claiming(cause) as step:
        if payment.status in _REFUNDABLE:
            payment = step.payments.move(payment, PaymentStatus.REFUNDING, claimed_at=int(now.timestamp()))
        else:
            # REFUNDING left by an attempt that failed or died: take it over, so that of two retries at
            # once only one calls the gateway.
            payment = step.payments.reclaim(payment, now=int(now.timestamp()))
    assert payment.payment_id is not None and payment.amount is not None
    gateway.refund(idempotency_key=payment.payment_id, amount=payment.amount)
    with uow.reacting_to(cause) as step:
        step.payments.move(payment, PaymentStatus.REFUNDED, reason=None)
        step.emit(PaymentRefunded(order_id=order_id, payment_id=payment.payment_id, amount=payment.amount))
    logger.info("charge refunded", amount=str(payment.amount))


def report_refund_failure(cause: Envelope[OrderCancelled], error: Exception | None, *, uow: PaymentUnitOfWork) -> bool:
    """The refund failed for good: a payment still holding money is REFUND_FAILED, a charge whose outcome
    is unknown is reported as such, and operators are told once, by a code (the error's text is logged
    here, beside the message id, never published).

    Called by the last delivery with its error, and by the dead-letter reporter with none (a delivery that
    timed out or crashed never reported: `dead_lettered`). The event is not marked applied, so a redrive of
    the dead-lettered message refunds after a fix.

    Returns whether it reported (False: nothing is held, or it was reported before).
    """
    payment = uow.payments.get(cause.data.order_id)
    if payment is None:
        return False
    unknown = payment.status in (PaymentStatus.CHARGING, PaymentStatus.OUTCOME_UNKNOWN)
    if not unknown and payment.status not in (PaymentStatus.CHARGED, PaymentStatus.REFUNDING):
        return False  # nothing held, or REFUND_FAILED: reported already
    code: CompensationFailureCode = (
        "charge_outcome_unknown"
        if unknown
        else "dead_lettered"
        if error is None
        else "refund_rejected"
        if isinstance(error, RefundRejected)
        else "refund_failed"
    )
    try:
        with uow.reporting_failure_of(cause) as step:
            if not unknown:  # a charge still being decided is the charge's to finish; it is only reported
                step.payments.move(payment, PaymentStatus.REFUND_FAILED, reason=code)
            step.emit(CompensationFailed.because(payment.order_id, "refund_payment", code))
    except DuplicateEvent:
        logger.info("refund failure reported before", code=code)
        return False
    logger.error(
        "refund failed for good; CompensationFailed published", code=code, error=str(error)[:2000] if error else None
    )
    return True

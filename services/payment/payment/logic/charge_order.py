"""Charge a newly created order once; emits PaymentProcessed (approved) or PaymentFailed (declined).

Triggered by OrderCreated. The charge is claimed first (a CHARGING record, written only if the order has
no payment record yet), then the gateway is called with the order id as its idempotency key, then the
outcome commits with the event. So two deliveries at once call the gateway with one key (it charges
once), an order voided by an earlier OrderCancelled is never charged, and a crash after the claim is
finished by the redelivery with the same key. The customer's token arrives sealed for this order; it
is opened only to call the gateway and is never stored. A token that does not open (not sealed by the
order API, or sealed for another order) declines the charge with reason `payment_token_unreadable`.
"""

from __future__ import annotations

from datetime import datetime

from payment.dal.payment_repository import PaymentUnitOfWork
from payment.models.gateway import Decision, PaymentGateway
from payment.models.payment import Payment, PaymentStatus
from shared.errors import PaymentChangedConcurrently
from shared.observability import logger
from shared.payment_tokens import PaymentTokenUnreadable, TokenOpener
from shop_contracts.base import merge_lines
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed


def charge_order(
    cause: Envelope[OrderCreated],
    *,
    uow: PaymentUnitOfWork,
    gateway: PaymentGateway,
    tokens: TokenOpener,
    now: datetime,
) -> None:
    """An order is charged its total exactly once, unless it was cancelled first.

    Raises
    ------
    PaymentChangedConcurrently
        When another delivery holds a live claim on the charge; the redelivery finds its outcome.
    """
    order = cause.data
    claim = _claim(cause, uow, int(now.timestamp()))
    if claim is None:
        return
    assert claim.amount is not None
    try:
        token = tokens.open(order.encrypted_payment_token, order_id=order.order_id)
    except PaymentTokenUnreadable:
        decision = Decision(approved=False, reason="payment_token_unreadable")
    else:
        decision = gateway.charge(idempotency_key=order.order_id, token=token, amount=claim.amount)
    try:
        with uow.reacting_to(cause) as step:
            if decision.approved:
                charged = step.payments.move(claim, PaymentStatus.CHARGED, payment_id=decision.payment_id)
                assert charged.payment_id is not None
                step.emit(
                    PaymentProcessed(
                        order_id=order.order_id, payment_id=charged.payment_id, amount=claim.amount, items=claim.items
                    )
                )
            elif decision.pending:
                step.payments.move(claim, PaymentStatus.PENDING, reason="authorisation_pending")
            else:
                reason = decision.reason or "declined"
                step.payments.move(claim, PaymentStatus.DECLINED, reason=reason)
                step.emit(PaymentFailed(order_id=order.order_id, reason=reason))
    except PaymentChangedConcurrently:
        # A concurrent delivery of this event recorded the same answer first.
        logger.info("charge recorded concurrently; nothing more to do")
        return
    logger.info(
        "order charged" if decision.approved else "authorisation pending" if decision.pending else "charge declined",
        reason=decision.reason,
    )


def _claim(cause: Envelope[OrderCreated], uow: PaymentUnitOfWork, now: int) -> Payment | None:
    """The CHARGING record this delivery may finish, or None when the order's payment is settled."""
    order = cause.data
    claim = Payment(
        order_id=order.order_id,
        status=PaymentStatus.CHARGING,
        amount=order.total_amount,
        items=merge_lines(order.items),
        claimed_at=now,
    )
    try:
        with uow.reacting_to(cause, mark_applied=False) as step:
            step.payments.add(claim)
    except PaymentChangedConcurrently:
        existing = uow.payments.get(order.order_id)
        if existing is not None and existing.status is PaymentStatus.CHARGING:
            if not existing.claim_is_free(now):
                raise PaymentChangedConcurrently(order.order_id) from None  # another delivery is at work
            # Claimed by an earlier delivery that did not finish (a lost answer, a crash): take the claim
            # over and finish it with the same key; a retry running at the same time loses the take-over.
            with uow.reacting_to(cause, mark_applied=False) as step:
                return step.payments.reclaim(existing, now=now)
        logger.info("order already has a payment; nothing to charge", status=existing and existing.status.value)
        return None
    return claim

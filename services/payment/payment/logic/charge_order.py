"""Charge a newly created order once; emits PaymentProcessed (approved) or PaymentFailed (declined).

Triggered by OrderCreated. The charge is claimed first (a CHARGING record, written only if the order has
no payment record yet), then the gateway is called with the order id as its idempotency key, then the
outcome commits with the event. So two deliveries at once call the gateway with one key (it charges
once), an order voided by an earlier OrderCancelled is never charged, and a crash after the claim is
finished by the redelivery with the same key. The customer's token arrives sealed for this order; it
is opened only to call the gateway and is never stored. A token that does not open (not sealed by the
order API, or sealed for another order) declines the charge with reason `payment_token_unreadable`.

When every delivery fails (the gateway's answers lost, KMS refusing for a passing reason), the last one
asks the gateway once more under the same key (it gives the first answer again, and charges at most once)
and records what it says; with no answer then either, the charge is OUTCOME_UNKNOWN and declined
(`payment_outcome_unknown`): the order is cancelled, and its refund reports `charge_outcome_unknown`.
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
        _record(cause, claim, decision, uow)
    except PaymentChangedConcurrently:
        # A concurrent delivery of this event recorded the same answer first.
        logger.info("charge recorded concurrently; nothing more to do")
        return
    logger.info(
        "order charged" if decision.approved else "authorisation pending" if decision.pending else "charge declined",
        reason=decision.reason,
    )


def resolve_unanswered_charge(
    cause: Envelope[OrderCreated],
    error: Exception,
    *,
    uow: PaymentUnitOfWork,
    gateway: PaymentGateway,
    tokens: TokenOpener,
) -> None:
    """The charge's last delivery failed too: its claim is resolved by the gateway's answer under the same key,
    or, with none, recorded OUTCOME_UNKNOWN and declined, so the order ends and operators are told."""
    order = cause.data
    if isinstance(error, PaymentChangedConcurrently):
        return  # another delivery holds the claim and is at work: it (or its own last delivery) decides
    claim = uow.payments.get(order.order_id)
    if claim is None or claim.status is not PaymentStatus.CHARGING:
        return  # decided meanwhile, or never claimed: nothing is held in doubt
    assert claim.amount is not None
    try:
        token = tokens.open(order.encrypted_payment_token, order_id=order.order_id)
        decision = gateway.charge(idempotency_key=order.order_id, token=token, amount=claim.amount)
    except PaymentTokenUnreadable:
        decision = Decision(approved=False, reason="payment_token_unreadable")
    except Exception as exc:
        logger.error("the charge's outcome stays unknown after its last delivery", error=str(exc)[:2000])
        decision = Decision(approved=False, reason=OUTCOME_UNKNOWN_REASON)
    _record(cause, claim, decision, uow)
    logger.error(
        "the charge's last delivery failed; its claim resolved", reason=decision.reason, cause=str(error)[:500]
    )


OUTCOME_UNKNOWN_REASON = "payment_outcome_unknown"


def _record(cause: Envelope[OrderCreated], claim: Payment, decision: Decision, uow: PaymentUnitOfWork) -> None:
    """The gateway's decision on a claimed charge, with the event it makes, in one commit."""
    order = cause.data
    assert claim.amount is not None
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
            unknown = reason == OUTCOME_UNKNOWN_REASON
            step.payments.move(
                claim, PaymentStatus.OUTCOME_UNKNOWN if unknown else PaymentStatus.DECLINED, reason=reason
            )
            step.emit(PaymentFailed(order_id=order.order_id, reason=reason))


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
        with uow.claiming(cause) as step:
            step.payments.add(claim)
    except PaymentChangedConcurrently:
        existing = uow.payments.get(order.order_id)
        if existing is not None and existing.status is PaymentStatus.CHARGING:
            if not existing.claim_is_free(now):
                raise PaymentChangedConcurrently(order.order_id) from None  # another delivery is at work
            # Claimed by an earlier delivery that did not finish (a lost answer, a crash): take the claim
            # over and finish it with the same key; a retry running at the same time loses the take-over.
            with uow.claiming(cause) as step:
                return step.payments.reclaim(existing, now=now)
        logger.info("order already has a payment; nothing to charge", status=existing and existing.status.value)
        return None
    return claim

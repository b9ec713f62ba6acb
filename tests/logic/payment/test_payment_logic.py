"""Payment logic on fakes: one charge per order, one refund per charge, never a second call that pays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payment.dal.payment_repository import PaymentUnitOfWork
from payment.logic.charge_order import charge_order
from payment.logic.refund_payment import refund_payment, report_refund_failure
from payment.logic.settle_payment import settle_payment
from payment.models.gateway import Decision, RefundRejected
from payment.models.payment import PaymentStatus
from shared.errors import DuplicateEvent, PaymentChangedConcurrently
from shared.testing.guards import UnguardedTable
from shop_contracts.order import OrderConfirmed
from tests.support.builders import envelope, order_cancelled, order_created, published, published_types
from tests.support.fakes import TOKENS, CountingGateway
from tests.support.memory import InMemoryTable

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def status(uow: PaymentUnitOfWork, order_id: str = "o-1") -> PaymentStatus | None:
    payment = uow.payments.get(order_id)
    return payment.status if payment else None


def table(uow: PaymentUnitOfWork) -> InMemoryTable:
    assert isinstance(uow.table, InMemoryTable)
    return uow.table


def test_an_approved_order_is_charged_its_total_once(payment_uow: PaymentUnitOfWork, gateway: CountingGateway) -> None:
    created = order_created()

    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    assert status(payment_uow) is PaymentStatus.CHARGED
    [(detail_type, detail)] = published(table(payment_uow))
    assert detail_type == "PaymentProcessed"
    assert detail["data"]["amount"] == "2599.98"
    assert detail["data"]["items"] == [{"productId": "PROD-001", "quantity": 2}]
    assert detail["metadata"]["causationId"] == created.metadata.event_id
    assert gateway.calls == {("charge", "o-1"): 1}
    assert gateway.charged == {"o-1": Decimal("2599.98")}


def test_a_declined_token_fails_the_payment(payment_uow: PaymentUnitOfWork, gateway: CountingGateway) -> None:
    charge_order(order_created(token="tok_decline"), uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    assert status(payment_uow) is PaymentStatus.DECLINED
    [(detail_type, detail)] = published(table(payment_uow))
    assert (detail_type, detail["data"]["reason"]) == ("PaymentFailed", "card_declined")


def test_a_token_sealed_for_another_order_declines_without_calling_the_gateway(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    # A sealed token copied from another order's event (by a forger, or a bug) must not pay for this one.
    stolen = order_created(order_id="o-other").data.encrypted_payment_token
    created = order_created()
    forged = created.model_copy(update={"data": created.data.model_copy(update={"encrypted_payment_token": stolen})})

    charge_order(forged, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    assert status(payment_uow) is PaymentStatus.DECLINED
    [(detail_type, detail)] = published(table(payment_uow))
    assert (detail_type, detail["data"]["reason"]) == ("PaymentFailed", "payment_token_unreadable")
    assert gateway.call_count("charge") == 0


def test_the_payment_record_keeps_no_token(payment_uow: PaymentUnitOfWork, gateway: CountingGateway) -> None:
    created = order_created(token="tok_refund_fail")
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    stored = [
        item for item in table(payment_uow).items.values() if not str(item["pk"]).startswith(("OUTBOX#", "INBOX#"))
    ]
    assert stored and all("token" not in key.lower() for item in stored for key in item)
    assert "tok_refund_fail" not in repr(stored)


def test_a_redelivered_order_neither_calls_the_gateway_nor_charges_again(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()
    for _ in range(3):
        charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    assert published_types(table(payment_uow)) == ["PaymentProcessed"]
    assert gateway.call_count("charge") == 1


def test_two_deliveries_at_once_call_the_gateway_once(payment_uow: PaymentUnitOfWork) -> None:
    created = order_created()

    class InterleavingGateway(CountingGateway):
        """While the first delivery waits for the gateway, the second delivery arrives."""

        backed_off = False

        def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
            if not self.backed_off:
                self.backed_off = True
                with pytest.raises(PaymentChangedConcurrently):  # a live claim: it backs off, to be redelivered
                    charge_order(created, uow=payment_uow, gateway=self, tokens=TOKENS, now=NOW + timedelta(seconds=1))
            return super().charge(idempotency_key=idempotency_key, token=token, amount=amount)

    gateway = InterleavingGateway()
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    # The second delivery, redelivered: the order has its payment, nothing more to do.
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW + timedelta(seconds=60))

    assert gateway.backed_off
    assert published_types(table(payment_uow)) == ["PaymentProcessed"]
    assert gateway.calls == {("charge", "o-1"): 1}
    assert gateway.charged == {"o-1": Decimal("2599.98")}


def test_of_two_retries_of_a_lost_answer_only_one_calls_the_gateway_again(payment_uow: PaymentUnitOfWork) -> None:
    # Found by the simulator (tests/simulation, seed 84 before the fix): a claim left by a failed attempt
    # was finished by whichever deliveries came next, all of them calling the gateway.
    created = order_created()

    class LosingGateway(CountingGateway):
        def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
            super().charge(idempotency_key=idempotency_key, token=token, amount=amount)
            raise TimeoutError("the answer was lost")

    with pytest.raises(TimeoutError):
        charge_order(created, uow=payment_uow, gateway=LosingGateway(), tokens=TOKENS, now=NOW)
    later = NOW + timedelta(seconds=60)

    class RacingGateway(CountingGateway):
        def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
            if not self.calls:
                with pytest.raises(PaymentChangedConcurrently):  # the other retry took the claim over
                    charge_order(created, uow=payment_uow, gateway=self, tokens=TOKENS, now=later)
            return super().charge(idempotency_key=idempotency_key, token=token, amount=amount)

    racing = RacingGateway()
    charge_order(created, uow=payment_uow, gateway=racing, tokens=TOKENS, now=later)

    assert racing.call_count("charge") == 1
    assert status(payment_uow) is PaymentStatus.CHARGED


def test_a_crash_after_the_claim_is_finished_by_the_redelivery_with_the_same_key(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()

    class CrashingGateway(CountingGateway):
        def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
            super().charge(idempotency_key=idempotency_key, token=token, amount=amount)
            raise TimeoutError("the answer was lost")

    with pytest.raises(TimeoutError):
        charge_order(created, uow=payment_uow, gateway=CrashingGateway(), tokens=TOKENS, now=NOW)
    assert status(payment_uow) is PaymentStatus.CHARGING

    # Redelivered after the visibility timeout: the dead delivery's claim is taken over, same key.
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW + timedelta(seconds=60))

    assert status(payment_uow) is PaymentStatus.CHARGED
    assert gateway.calls == {("charge", "o-1"): 1}
    assert published_types(table(payment_uow)) == ["PaymentProcessed"]


def test_a_cancel_refunds_the_charge_once_keyed_by_the_payment(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    cancel = order_cancelled(created, "out_of_stock")

    refund_payment(cancel, uow=payment_uow, gateway=gateway, now=NOW)
    refund_payment(cancel, uow=payment_uow, gateway=gateway, now=NOW)
    refund_payment(order_cancelled(created, "timeout"), uow=payment_uow, gateway=gateway, now=NOW)

    assert status(payment_uow) is PaymentStatus.REFUNDED
    assert published_types(table(payment_uow)) == ["PaymentProcessed", "PaymentRefunded"]
    payment_id = published(table(payment_uow))[0][1]["data"]["paymentId"]
    assert gateway.refunded == {payment_id: Decimal("2599.98")}
    assert gateway.call_count("refund") == 1


def test_a_cancel_of_a_declined_order_has_nothing_to_refund(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created(token="tok_decline")
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    refund_payment(order_cancelled(created, "payment_declined"), uow=payment_uow, gateway=gateway, now=NOW)

    assert status(payment_uow) is PaymentStatus.DECLINED
    assert gateway.call_count("refund") == 0


def test_a_cancel_that_arrives_before_the_order_voids_it(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()

    refund_payment(order_cancelled(created), uow=payment_uow, gateway=gateway, now=NOW)
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    assert status(payment_uow) is PaymentStatus.VOIDED
    assert published_types(table(payment_uow)) == ["PaymentVoided"]
    assert gateway.call_count("charge") == 0


def test_a_cancel_while_the_charge_is_in_flight_waits_for_it(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()

    class SlowGateway(CountingGateway):
        def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
            with pytest.raises(PaymentChangedConcurrently):
                refund_payment(order_cancelled(created), uow=payment_uow, gateway=self, now=NOW)
            return super().charge(idempotency_key=idempotency_key, token=token, amount=amount)

    charge_order(created, uow=payment_uow, gateway=SlowGateway(), tokens=TOKENS, now=NOW)
    refund_payment(order_cancelled(created), uow=payment_uow, gateway=gateway, now=NOW)  # the retry

    assert status(payment_uow) is PaymentStatus.REFUNDED


def test_a_pending_authorisation_charges_nothing_and_is_voided_by_the_cancel(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created(token="tok_pending")

    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    assert status(payment_uow) is PaymentStatus.PENDING
    refund_payment(order_cancelled(created, "timeout"), uow=payment_uow, gateway=gateway, now=NOW)

    assert status(payment_uow) is PaymentStatus.VOIDED
    assert published_types(table(payment_uow)) == ["PaymentVoided"]


def test_a_refused_refund_is_reported_then_refunded_by_a_redrive_after_a_fix(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created(token="tok_refund_fail")
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    cancel = order_cancelled(created)

    for attempt in range(3):  # SQS redelivers a minute apart (the visibility timeout)
        with pytest.raises(RefundRejected):
            refund_payment(cancel, uow=payment_uow, gateway=gateway, now=NOW + timedelta(minutes=attempt))
    report_refund_failure(cancel, RefundRejected("no"), uow=payment_uow)

    assert status(payment_uow) is PaymentStatus.REFUND_FAILED
    assert published_types(table(payment_uow)) == ["PaymentProcessed", "CompensationFailed"]
    assert published(table(payment_uow))[1][1]["data"]["step"] == "refund_payment"
    payment_id = published(table(payment_uow))[0][1]["data"]["paymentId"]
    assert len({key for kind, key in gateway.calls if kind == "refund"}) == 1 == len([payment_id])

    class FixedGateway(CountingGateway):
        def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
            self.refunded[idempotency_key] = amount

    fixed = FixedGateway()
    refund_payment(cancel, uow=payment_uow, gateway=fixed, now=NOW)  # the redrive

    assert status(payment_uow) is PaymentStatus.REFUNDED
    assert published_types(table(payment_uow))[-1] == "PaymentRefunded"
    assert fixed.refunded == {payment_id: Decimal("2599.98")}


def test_any_failure_of_the_last_refund_attempt_is_reported(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)

    report_refund_failure(order_cancelled(created), TimeoutError("gateway timed out"), uow=payment_uow)

    assert status(payment_uow) is PaymentStatus.REFUND_FAILED
    data = published(table(payment_uow))[1][1]["data"]
    assert data["reason"] == data["reasonCode"] == "refund_failed"  # a code: the error's text is logged, never sent


def test_an_event_applied_before_is_a_duplicate(payment_uow: PaymentUnitOfWork, gateway: CountingGateway) -> None:
    created = order_created()
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    with pytest.raises(DuplicateEvent), payment_uow.reacting_to(created) as step:
        step.payments.get("o-1")


def test_without_the_guards_a_duplicate_charges_twice(gateway: CountingGateway) -> None:
    # What the negative controls rely on: with the guards off, duplicates do harm the checkers can see.
    uow = PaymentUnitOfWork(UnguardedTable(InMemoryTable()))
    created = order_created()

    charge_order(created, uow=uow, gateway=gateway, tokens=TOKENS, now=NOW)
    charge_order(created, uow=uow, gateway=gateway, tokens=TOKENS, now=NOW)

    assert isinstance(uow.table, UnguardedTable) and isinstance(uow.table.inner, InMemoryTable)
    assert published_types(uow.table.inner) == ["PaymentProcessed", "PaymentProcessed"]


def test_a_confirmed_orders_charge_is_settled_and_a_later_cancel_refunds_nothing(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway
) -> None:
    created = order_created()
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    confirmed = envelope(OrderConfirmed(order_id="o-1"), cause=created.metadata)

    settle_payment(confirmed, uow=payment_uow)
    settle_payment(confirmed, uow=payment_uow)
    refund_payment(order_cancelled(created), uow=payment_uow, gateway=gateway, now=NOW)  # forged: never after a confirm

    assert status(payment_uow) is PaymentStatus.SETTLED
    assert gateway.call_count("refund") == 0
    assert published_types(table(payment_uow)) == ["PaymentProcessed"]


def test_a_confirmation_with_no_charge_here_changes_nothing(payment_uow: PaymentUnitOfWork) -> None:
    settle_payment(envelope(OrderConfirmed(order_id="o-9")), uow=payment_uow)
    assert status(payment_uow, "o-9") is None


def test_a_redelivered_confirmation_is_no_error_but_one_without_a_charge_is(
    payment_uow: PaymentUnitOfWork, gateway: CountingGateway, caplog: pytest.LogCaptureFixture
) -> None:
    created = order_created()
    charge_order(created, uow=payment_uow, gateway=gateway, tokens=TOKENS, now=NOW)
    confirmed = envelope(OrderConfirmed(order_id="o-1"), cause=created.metadata)
    settle_payment(confirmed, uow=payment_uow)
    caplog.clear()

    settle_payment(confirmed, uow=payment_uow)
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == []

    settle_payment(envelope(OrderConfirmed(order_id="o-9")), uow=payment_uow)
    assert "confirmation refused: no charge to settle" in [r.message for r in caplog.records if r.levelname == "ERROR"]

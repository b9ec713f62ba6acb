"""The payment table: one payment record per order (`PAYMENT#<orderId>`), beside the inbox and outbox."""

from __future__ import annotations

from payment.models.payment import Payment, PaymentStatus
from shared.errors import PaymentChangedConcurrently
from shared.storage import Condition, Key, Put, Update, absent, equals, invariant, missing, transition
from shared.unit_of_work import Repository, Step, UnitOfWork, repository

# The invariants these writes' conditions enforce, by name (the negative controls switch them off).
ONE_CHARGE_PER_ORDER = "one_charge_per_order"
ONE_REFUND_PER_CHARGE = "one_refund_per_charge"


def _key(order_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{order_id}"}


class PaymentRepository(Repository):
    """Payments by order; the record is created once and then only moves along its state machine."""

    def get(self, order_id: str) -> Payment | None:
        """The order's payment record, or None."""
        item = self.table.get(_key(order_id))
        return Payment.model_validate(item) if item else None

    def add(self, payment: Payment) -> None:
        """The first and only record of an order: a claim before a charge, or a void before any.

        A second one fails the commit with `PaymentChangedConcurrently`.
        """
        self._stage(
            Put(
                {**_key(payment.order_id), **payment.to_wire()},
                condition=invariant(ONE_CHARGE_PER_ORDER, absent()),
                conflict=lambda: PaymentChangedConcurrently(payment.order_id),
            )
        )

    def move(self, payment: Payment, to: PaymentStatus, **changes: object) -> Payment:
        """Move the record on from the status it was read in (else the commit fails with
        `PaymentChangedConcurrently`); returns the payment as it will be."""
        moved = payment.model_copy(update={"status": to, **changes})
        wire = moved.to_wire()
        also = {alias: wire[alias] for name, alias in _ALIASES.items() if name in changes}
        enforcing = ONE_REFUND_PER_CHARGE if to in _REFUND_STATES else ONE_CHARGE_PER_ORDER
        self._stage(
            transition(
                _key(payment.order_id),
                from_=payment.status.value,
                to=to.value,
                also=also,
                conflict=lambda: PaymentChangedConcurrently(payment.order_id),
                enforcing=enforcing,
            )
        )
        return moved

    def reclaim(self, payment: Payment, *, now: int) -> Payment:
        """Take over the claim (CHARGING or REFUNDING) an earlier delivery left when its gateway call failed
        or its process died, before calling the gateway again with the same key. Of two deliveries that
        retry at once only one moves the claim on; the other fails the commit with
        `PaymentChangedConcurrently` and, redelivered, finds the outcome."""
        retaken = payment.model_copy(update={"attempt": payment.attempt + 1, "claimed_at": now})
        same_attempt: Condition = equals("attempt", payment.attempt)
        if payment.attempt == 1:
            same_attempt = same_attempt | missing("attempt")  # records written before attempts were counted
        self._stage(
            Update(
                _key(payment.order_id),
                set={"attempt": retaken.attempt, "claimedAt": now},
                condition=invariant(
                    ONE_REFUND_PER_CHARGE if payment.status in _REFUND_STATES else ONE_CHARGE_PER_ORDER,
                    equals("status", payment.status.value) & same_attempt,
                ),
                conflict=lambda: PaymentChangedConcurrently(payment.order_id),
            )
        )
        return retaken


_ALIASES = {name: field.alias or name for name, field in Payment.model_fields.items()}
_REFUND_STATES = {PaymentStatus.REFUNDING, PaymentStatus.REFUNDED, PaymentStatus.REFUND_FAILED}


class PaymentRepositories:
    """The payment service's repositories: on a step they stage writes, on the unit of work they only read."""

    payments = repository(PaymentRepository)


class PaymentStep(Step, PaymentRepositories):
    """A step of the payment service."""


class PaymentUnitOfWork(UnitOfWork[PaymentStep], PaymentRepositories):
    """The payment service's unit of work on its table."""

    step_type = PaymentStep

    def order_record(self, order_id: str) -> Key:
        """The order's payment: every reaction to a saga event writes it, so it carries the inbox marks."""
        return _key(order_id)

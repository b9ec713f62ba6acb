"""The payment gateway port, and the simulated, deterministic gateway the project ships.

Every call carries an idempotency key, as real providers take one (the order id for a charge, the
payment id for a refund): the same key always gets the same answer and moves money at most once. A
refund names the charge by its payment id, as with a real provider, so the payment service needs the
customer's token only to charge and never keeps it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shared.errors import ShopError

APPROVING_TOKENS = frozenset({"tok_ok", "tok_refund_fail"})
# Authorisation that never completes (think of a 3-D Secure challenge the customer abandons): the
# charge stays pending, so the order waits for its deadline. Lets tests and demos show a timeout.
PENDING_TOKENS = frozenset({"tok_pending"})
DECLINING_TOKENS = frozenset({"tok_decline"})
_PAYMENT_IDS = uuid.UUID("7d3f9a52-1c4e-4b8a-9f0e-5a6b7c8d9e0f")
# The simulator keeps no state: what it must remember of a charge (that its refunds fail) is in the id it
# issued for it, as a real provider knows its own charges.
_REFUSES_REFUNDS = "pay-norefund-"


class RefundRejected(ShopError):
    """The gateway refused to refund; the refund is retried, then reported as CompensationFailed."""


@dataclass(frozen=True)
class Decision:
    """The gateway's answer to a charge: approved (with its payment id), declined, or still pending."""

    approved: bool
    payment_id: str | None = None
    reason: str | None = None
    pending: bool = False


class PaymentGateway(Protocol):
    """What the payment service needs of a payment provider."""

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
        """Charge `amount` once per key; a repeated key gets the first answer."""
        ...

    def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
        """Refund the charge `idempotency_key` (its payment id) once.

        Raises
        ------
        RefundRejected
            When the provider refuses.
        """
        ...


@dataclass(frozen=True)
class SimulatedGateway:
    """`tok_ok` approves, `tok_decline` declines, `tok_refund_fail` approves and then refuses every refund,
    `tok_pending` leaves the authorisation pending for ever (nothing is charged).

    `decline_rate` declines that share of otherwise approved charges, chosen by a hash of the key, so a
    demo sees declines and a replay always gets the same answer. The answer depends only on the call,
    so the same idempotency key always gets the same payment id: the simulator honours keys by design.
    """

    decline_rate: float = 0.0

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
        """Approve or decline a charge."""
        if token in PENDING_TOKENS:
            return Decision(approved=False, pending=True)
        if token in DECLINING_TOKENS:
            return Decision(approved=False, reason="card_declined")
        if token not in APPROVING_TOKENS:
            return Decision(approved=False, reason="invalid_token")
        if self.decline_rate and _share(idempotency_key) < self.decline_rate:
            return Decision(approved=False, reason="card_declined")
        prefix = _REFUSES_REFUNDS if token == "tok_refund_fail" else "pay-"
        return Decision(approved=True, payment_id=f"{prefix}{uuid.uuid5(_PAYMENT_IDS, idempotency_key)}")

    def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
        """Refund the charge whose payment id is `idempotency_key`.

        Raises
        ------
        RefundRejected
            For a charge made with `tok_refund_fail`.
        """
        if idempotency_key.startswith(_REFUSES_REFUNDS):
            # Says nothing of the token: a failure reason travels on in CompensationFailed.
            raise RefundRejected("the gateway rejected the refund")


@dataclass(frozen=True)
class NoPaymentProvider:
    """What a stack that is not a simulator has until a team plugs its provider in: it approves nothing
    (so a test token never buys anything) and, having charged nothing, refunds nothing."""

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
        """Decline: there is nobody to take the money."""
        return Decision(approved=False, reason="no_payment_provider")

    def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
        """Nothing was charged through it, so there is nothing it could refund.

        Raises
        ------
        RefundRejected
            Always.
        """
        raise RefundRejected("no payment provider is configured")


def _share(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64

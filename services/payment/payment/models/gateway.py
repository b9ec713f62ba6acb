"""A simulated, deterministic payment gateway: test tokens decide, never card data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.errors import ShopError

APPROVING_TOKENS = frozenset({"tok_ok", "tok_refund_fail"})
# Authorisation that never completes (think of a 3-D Secure challenge the customer abandons): the
# charge stays pending, so the order waits for its deadline. Lets tests and demos show a timeout.
PENDING_TOKENS = frozenset({"tok_pending"})
DECLINING_TOKENS = frozenset({"tok_decline"})


class RefundRejected(ShopError):
    """The gateway refused to refund; the refund is retried, then reported as CompensationFailed."""


@dataclass(frozen=True)
class Decision:
    """The gateway's answer to a charge."""

    approved: bool
    reason: str | None = None
    pending: bool = False


@dataclass(frozen=True)
class SimulatedGateway:
    """`tok_ok` approves, `tok_decline` declines, `tok_refund_fail` approves and then refuses every refund,
    `tok_pending` leaves the authorisation pending for ever (nothing is charged).

    `decline_rate` declines that share of otherwise approved charges, chosen by a hash of the order id,
    so a demo sees declines and a replay of the same order always gets the same answer.
    """

    decline_rate: float = 0.0

    def charge(self, *, order_id: str, token: str) -> Decision:
        """Approve or decline the charge of an order."""
        if token in PENDING_TOKENS:
            return Decision(approved=False, pending=True)
        if token in DECLINING_TOKENS:
            return Decision(approved=False, reason="card_declined")
        if token not in APPROVING_TOKENS:
            return Decision(approved=False, reason="invalid_token")
        if self.decline_rate and _share(order_id) < self.decline_rate:
            return Decision(approved=False, reason="card_declined")
        return Decision(approved=True)

    @staticmethod
    def refund(*, token: str) -> None:
        """Refund a charge made with `token`.

        Raises
        ------
        RefundRejected
            For `tok_refund_fail`.
        """
        if token == "tok_refund_fail":
            raise RefundRejected("the gateway rejected the refund (test token tok_refund_fail)")


def _share(order_id: str) -> float:
    return int.from_bytes(hashlib.sha256(order_id.encode()).digest()[:8], "big") / 2**64

"""A payment as the payment service keeps it: at most one per order, moving through a small state machine."""

from enum import StrEnum

from shop_contracts.base import LineItem, OrderId, PositiveMoney, WireModel

# A claim younger than this may belong to a delivery still at work: it is not taken over. It is the
# functions' timeout (template Globals), the longest a delivery can run; SQS redelivers a failed event only
# after its visibility timeout, which is never shorter, so a retry after a crash or a lost answer finds the
# claim free to take. A contract test holds the three together.
CLAIM_LEASE_SECONDS = 10


class PaymentStatus(StrEnum):
    """Where an order's payment stands.

    CHARGING is a claim taken before the gateway is called (so two deliveries never both charge);
    it becomes CHARGED, DECLINED or PENDING (an authorisation that never completes). REFUNDING is the
    same claim before a refund: it becomes REFUNDED, or REFUND_FAILED when the gateway keeps refusing
    (and REFUNDED after a redrive). SETTLED is a charge whose order was confirmed: it is never refunded,
    so a cancel of a confirmed order (forged, or misrouted) changes nothing. VOIDED marks an order
    cancelled before it was charged, so a late OrderCreated charges nothing. OUTCOME_UNKNOWN is a charge
    whose every delivery lost the gateway's answer, the last one included: whether money was taken is not
    known, the order is declined, and a refund reports it for operators to reconcile with the provider.
    """

    CHARGING = "CHARGING"
    PENDING = "PENDING"
    CHARGED = "CHARGED"
    SETTLED = "SETTLED"
    DECLINED = "DECLINED"
    REFUNDING = "REFUNDING"
    REFUNDED = "REFUNDED"
    REFUND_FAILED = "REFUND_FAILED"
    VOIDED = "VOIDED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


class Payment(WireModel):
    """The one payment record of an order."""

    order_id: OrderId
    status: PaymentStatus
    payment_id: str | None = None
    amount: PositiveMoney | None = None
    items: tuple[LineItem, ...] = ()
    reason: str | None = None
    # Which claim of the gateway call this is, and when it was taken (epoch seconds): a retry takes over a
    # claim left by a failed attempt only once its lease ran out, by moving `attempt` on, so that of two
    # deliveries at once only one calls the gateway.
    attempt: int = 1
    claimed_at: int | None = None

    def claim_is_free(self, now: float) -> bool:
        """Whether a claim (CHARGING, REFUNDING) may be taken over: nobody can still be working on it."""
        return self.claimed_at is None or now - self.claimed_at >= CLAIM_LEASE_SECONDS

    @property
    def holds_money(self) -> bool:
        """The customer was charged and not refunded (a refund may be under way or have failed)."""
        return self.status in (PaymentStatus.CHARGED, PaymentStatus.REFUNDING, PaymentStatus.REFUND_FAILED)

"""Events the payment service publishes: a charge, a declined charge, a refund, and a void."""

from typing import ClassVar, Literal

from pydantic import Field

from shop_contracts.base import DomainEvent, LineItem, OrderId, PositiveMoney


class PaymentProcessed(DomainEvent):
    """The order's total was charged; inventory reacts by reserving its lines (carried here)."""

    service: ClassVar[str] = "payment"
    order_id: OrderId
    payment_id: str = Field(min_length=1)
    amount: PositiveMoney
    # Event-carried state: inventory reserves from this event alone, without reading the order service.
    items: tuple[LineItem, ...] = Field(min_length=1, max_length=50)


class PaymentFailed(DomainEvent):
    """The charge was declined; the order reacts by cancelling."""

    service: ClassVar[str] = "payment"
    order_id: OrderId
    reason: str = Field(min_length=1)


class PaymentRefunded(DomainEvent):
    """A charge was given back in full (compensation)."""

    service: ClassVar[str] = "payment"
    order_id: OrderId
    payment_id: str = Field(min_length=1)
    amount: PositiveMoney


class PaymentVoided(DomainEvent):
    """The order was cancelled before any money was taken: its payment is closed, and nothing is refunded.

    It also settles a refund reported impossible while the charge was still undecided
    (`CompensationFailed` with `charge_outcome_unknown`) once the charge turns out never to have taken money.
    """

    service: ClassVar[str] = "payment"
    order_id: OrderId
    reason: Literal["cancelled_before_charge", "cancelled_while_pending"]

"""Events the order service publishes: the saga's start and its two possible ends."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from shared.contracts.base import DomainEvent, LineItem, OrderId, PositiveMoney

CancellationReason = Literal["payment_declined", "out_of_stock", "timeout", "customer_request"]


class OrderCreated(DomainEvent):
    """A customer placed an order; payment reacts by charging it."""

    service: ClassVar[str] = "order"
    order_id: OrderId
    customer_id: str = Field(min_length=1, max_length=128)
    items: tuple[LineItem, ...] = Field(min_length=1, max_length=50)
    total_amount: PositiveMoney
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    deadline: AwareDatetime
    # The payment token travels to the payment service only as an opaque test token, never card data.
    payment_token: str = Field(min_length=1, max_length=64)


class OrderConfirmed(DomainEvent):
    """Payment was taken and every line reserved: the saga succeeded."""

    service: ClassVar[str] = "order"
    order_id: OrderId


class OrderCancelled(DomainEvent):
    """The order will not be fulfilled; payment refunds and inventory releases whatever they hold."""

    service: ClassVar[str] = "order"
    order_id: OrderId
    reason: CancellationReason

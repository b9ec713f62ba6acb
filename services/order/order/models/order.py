"""The order as the order service stores it, and the request that places one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from shared.contracts.base import LineItem, OrderId, PositiveMoney, WireModel
from shared.contracts.envelope import Envelope
from shared.contracts.order import CancellationReason, OrderCreated


class OrderStatus(StrEnum):
    """Where an order is in its life; CONFIRMED and CANCELLED are terminal."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class PaymentDetails(WireModel):
    """How the customer pays: an opaque token (`tok_ok`, `tok_decline`, ...), never card data."""

    model_config = ConfigDict(extra="forbid", strict=True)
    token: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class PlaceOrderRequest(WireModel):
    """The body of `POST /orders`; strict: no coercion, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    items: list[LineItem] = Field(min_length=1, max_length=50)
    total_amount: PositiveMoney
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    payment: PaymentDetails


class Order(WireModel):
    """An order and where it stands."""

    order_id: OrderId
    customer_id: str
    items: tuple[LineItem, ...]
    total_amount: PositiveMoney
    currency: str
    status: OrderStatus
    cancellation_reason: CancellationReason | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deadline: AwareDatetime
    # The OrderCreated event id: what a cancel by the customer or by the deadline was caused by.
    created_event_id: str

    @classmethod
    def placed(cls, created: Envelope[OrderCreated]) -> Order:
        """The PENDING order that `created` announces."""
        data = created.data
        return cls(
            order_id=data.order_id,
            customer_id=data.customer_id,
            items=data.items,
            total_amount=data.total_amount,
            currency=data.currency,
            status=OrderStatus.PENDING,
            created_at=created.metadata.occurred_at,
            updated_at=created.metadata.occurred_at,
            deadline=data.deadline,
            created_event_id=created.metadata.event_id,
        )

    @property
    def is_terminal(self) -> bool:
        """Confirmed or cancelled: nothing can change it any more."""
        return self.status is not OrderStatus.PENDING

    def is_overdue(self, now: datetime) -> bool:
        """Still pending after its deadline."""
        return not self.is_terminal and now >= self.deadline

"""The order as the order service stores it, and the request that places one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from shared.bodies import RequestBody
from shop_contracts.base import LineItem, OrderId, PositiveMoney, PricedLine, ProductId, Quantity, WireModel
from shop_contracts.envelope import Envelope
from shop_contracts.order import CancellationReason, OrderCreated
from shop_contracts.saga import SagaView


class OrderStatus(StrEnum):
    """Where an order is in its life; CONFIRMED and CANCELLED are terminal."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class PaymentDetails(RequestBody):
    """How the customer pays: an opaque token (`tok_ok`, `tok_decline`, ...), never card data."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class OrderLine(RequestBody):
    """One line of `POST /orders`: a product and how many units of it."""

    product_id: ProductId
    quantity: Quantity

    def line(self) -> LineItem:
        """The line as the contract carries it."""
        return LineItem(product_id=self.product_id, quantity=self.quantity)


class PlaceOrderRequest(RequestBody):
    """The body of `POST /orders` (closed, camelCase, strict: `shared.bodies`). The customer is the caller.

    The server prices the order from its copy of the catalogue; `totalAmount`, if sent, must be that total
    (else 409 with the current total), so a client can confirm the price it showed.
    """

    items: list[OrderLine] = Field(min_length=1, max_length=50)
    total_amount: PositiveMoney | None = Field(
        default=None, description="Optional: the total the client expects; 409 if the current total differs."
    )
    # The catalogue prices in US dollars only: another currency could not be priced.
    currency: Literal["USD"] = "USD"
    payment: PaymentDetails

    @field_validator("items")
    @classmethod
    def _one_line_per_product(cls, items: list[OrderLine]) -> list[OrderLine]:
        # Inventory reserves per product, and a line holds at most 1,000 units: two lines of one product
        # could add up to more than any consumer accepts.
        ids = [line.product_id for line in items]
        if len(set(ids)) != len(ids):
            raise ValueError("list each product on one line (add up its quantity)")
        return items

    def lines(self) -> tuple[LineItem, ...]:
        """The order's lines as the contract carries them."""
        return tuple(line.line() for line in self.items)


class OperatorCancelRequest(RequestBody):
    """The body of `POST /operator/orders/{orderId}/cancel`: why the operator cancels (kept on the order)."""

    note: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Order(WireModel):
    """An order and where it stands."""

    order_id: OrderId
    customer_id: str
    items: tuple[PricedLine, ...]
    total_amount: PositiveMoney
    currency: str
    status: OrderStatus
    cancellation_reason: CancellationReason | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deadline: AwareDatetime
    # The OrderCreated event id: what a cancel by the customer or by the deadline was caused by.
    created_event_id: str
    # What the order service has seen of the saga: it confirms only an order both paid and reserved.
    payment_id: str | None = None
    reserved: bool = False
    # An operator's cancel on the customer's behalf: who (their IAM principal) and why. Not shown to the customer.
    cancelled_by: str | None = None
    cancellation_note: str | None = None

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


class OrderAccepted(WireModel):
    """The answer to `POST /orders`: the new order's id; it starts PENDING."""

    order_id: str
    status: OrderStatus


class CancelAccepted(WireModel):
    """The answer to `POST /orders/{orderId}/cancel`: the order is cancelled; compensation follows."""

    order_id: str
    status: OrderStatus
    reason: CancellationReason


class OrderView(WireModel):
    """What `GET /orders/{orderId}` shows: the order and the projector's view of its saga."""

    order_id: OrderId
    customer_id: str
    items: tuple[PricedLine, ...]
    total_amount: PositiveMoney
    currency: str
    status: OrderStatus
    cancellation_reason: CancellationReason | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deadline: AwareDatetime
    saga: SagaView | None

    @classmethod
    def of(cls, order: Order, saga: SagaView | None) -> OrderView:
        """The view of `order` with its saga."""
        shown = order.model_dump(
            exclude={"created_event_id", "payment_id", "reserved", "cancelled_by", "cancellation_note"}
        )
        return cls.model_validate({**shown, "saga": saga})

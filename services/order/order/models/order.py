"""The order as the order service stores it, and the request that places one."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from shared.bodies import RequestBody
from shop_contracts.base import LineItem, OrderId, PositiveMoney, PricedLine, ProductId, Quantity, WireModel
from shop_contracts.compensation import CompensationFailureCode
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
    def placed(cls, created: "Envelope[OrderCreated]") -> Self:
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
    message: str | None = Field(
        description="For a cancelled order, what happened in a sentence for the customer (fixed per reason: "
        "never an error's text); null otherwise."
    )

    @classmethod
    def of(cls, order: Order, saga: SagaView | None) -> Self:
        """The view of `order` with its saga."""
        shown = order.model_dump(
            exclude={"created_event_id", "payment_id", "reserved", "cancelled_by", "cancellation_note"}
        )
        if saga is not None and saga.failure_reason and _failure_code(saga.failure_reason) == "unspecified":
            # A view folded before failures had codes may hold an error's text: it is not shown.
            saga = saga.model_copy(update={"failure_reason": f"{_FAILED}unspecified"})
        return cls.model_validate({**shown, "saga": saga, "message": customer_message(order, saga)})


_FAILED = "compensation_failed: "


def _failure_code(failure_reason: str) -> str | None:
    """A failed compensation's code (`unspecified` if it is not a known one); None for any other reason."""
    if not failure_reason.startswith(_FAILED):
        return None
    code = failure_reason.removeprefix(_FAILED)
    return code if code in UNDOING_FAILED_BECAUSE else "unspecified"


CANCELLED_BECAUSE: dict[CancellationReason, str] = {
    "payment_declined": "Your payment was declined, so the order was cancelled.",
    "out_of_stock": "An item ran out of stock, so the order was cancelled and any payment taken is being returned.",
    "timeout": "The order could not be completed in time, so it was cancelled and any payment taken is being returned.",
    "customer_request": "The order was cancelled, and any payment taken is being returned.",
}
"""What a customer is told of a cancelled order, per reason."""

UNDOING_FAILED_BECAUSE: dict[CompensationFailureCode, str] = {
    "refund_rejected": "The order was cancelled. Returning your payment is taking longer than usual; our team "
    "has been told and will complete it.",
    "refund_failed": "The order was cancelled. Returning your payment is taking longer than usual; our team has "
    "been told and will complete it.",
    "charge_outcome_unknown": "The order was cancelled. We could not confirm whether your payment was taken; our "
    "team is checking with the payment provider, and any amount taken will be returned.",
    "product_missing": "The order was cancelled, and any payment taken is being returned.",
    "release_failed": "The order was cancelled, and any payment taken is being returned.",
    "dead_lettered": "The order was cancelled. Part of undoing it is delayed; our team has been told, and any "
    "payment taken will be returned.",
}
"""What a customer is told when a compensation failed, per code: a stock release that failed is the shop's
matter, not the customer's, so it reads as a plain cancel."""


def customer_message(order: Order, saga: SagaView | None) -> str | None:
    """The sentence for the customer about a cancelled order: a failed compensation's, else its reason's."""
    if order.status is not OrderStatus.CANCELLED:
        return None
    code = _failure_code(saga.failure_reason) if saga is not None and saga.failure_reason else None
    if code is not None:
        # A code this service does not know (a newer contract, an older view) reads as the most general one.
        return {str(k): v for k, v in UNDOING_FAILED_BECAUSE.items()}.get(code, UNDOING_FAILED_BECAUSE["dead_lettered"])
    return CANCELLED_BECAUSE[order.cancellation_reason] if order.cancellation_reason else None

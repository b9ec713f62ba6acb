"""Events the order service publishes: the saga's start and its two possible ends."""

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from shop_contracts.base import DomainEvent, OrderId, PositiveMoney, PricedLine

CancellationReason = Literal["payment_declined", "out_of_stock", "timeout", "customer_request"]


class OrderCreated(DomainEvent):
    """A customer placed an order, priced by the order service; payment reacts by charging its total."""

    service: ClassVar[str] = "order"
    order_id: OrderId
    customer_id: str = Field(min_length=1, max_length=128)
    items: tuple[PricedLine, ...] = Field(min_length=1, max_length=50)
    # The sum of the lines' unit price x quantity, computed by the order service: what payment charges.
    total_amount: PositiveMoney
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    deadline: AwareDatetime
    # The customer's payment token, sealed by the order API with a KMS key that only the payment service may
    # decrypt, bound to this order (shared/payment_tokens.py): base64 ciphertext, never the token itself.
    encrypted_payment_token: str = Field(
        min_length=1,
        max_length=8192,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="The payment token as KMS ciphertext (base64) that only the payment service can decrypt.",
    )


class OrderConfirmed(DomainEvent):
    """Payment was taken and every line reserved: the saga succeeded."""

    service: ClassVar[str] = "order"
    order_id: OrderId


class OrderCancelled(DomainEvent):
    """The order will not be fulfilled; payment refunds and inventory releases whatever they hold."""

    service: ClassVar[str] = "order"
    order_id: OrderId
    reason: CancellationReason

"""Events the inventory service publishes: all lines reserved, a shortage, or a release (the saga), and a
product's price (the catalogue the order service prices orders from)."""

from typing import ClassVar

from pydantic import Field

from shop_contracts.base import DomainEvent, LineItem, OrderId, PositiveMoney, ProductId, WireModel


class Shortage(WireModel):
    """A line that could not be reserved: how many were asked for and how many there were."""

    product_id: ProductId
    requested: int = Field(ge=1)
    available: int = Field(ge=0)


class InventoryReserved(DomainEvent):
    """Every line of the order is held; the order reacts by confirming."""

    service: ClassVar[str] = "inventory"
    order_id: OrderId
    items: tuple[LineItem, ...] = Field(min_length=1)


class InventoryFailed(DomainEvent):
    """At least one line was short, so nothing was reserved; payment refunds and the order cancels."""

    service: ClassVar[str] = "inventory"
    order_id: OrderId
    reason: str = Field(min_length=1)
    shortages: tuple[Shortage, ...] = Field(min_length=1)


class InventoryReleased(DomainEvent):
    """A reservation was given back to stock (compensation)."""

    service: ClassVar[str] = "inventory"
    order_id: OrderId
    items: tuple[LineItem, ...] = Field(min_length=1)


class ProductPriced(DomainEvent):
    """A product was created, or its price or name changed. Not part of any saga: its correlation id is
    the product id. The order service keeps its own copy of the prices from these; `version` (the
    product's, rising with every change) lets a copy keep the newest price whatever order they arrive in.
    """

    service: ClassVar[str] = "inventory"
    product_id: ProductId
    name: str = Field(min_length=1, max_length=200)
    price: PositiveMoney
    version: int = Field(ge=1)

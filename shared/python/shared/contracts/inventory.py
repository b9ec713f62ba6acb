"""Events the inventory service publishes: all lines reserved, a shortage, or a release."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import DomainEvent, LineItem, OrderId, ProductId, WireModel


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

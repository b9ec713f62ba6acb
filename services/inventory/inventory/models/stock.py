"""Products with their available stock, and the one reservation an order can hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from shared.contracts.base import LineItem, Money, OrderId, ProductId, WireModel


class Product(WireModel):
    """A product and how many units are free to reserve."""

    product_id: ProductId
    name: str
    price: Money
    available: int = Field(ge=0)


class ProductUpdate(WireModel):
    """The body of `PUT /products/{productId}`: `available` sets the stock to that number."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    price: Money
    available: int = Field(ge=0, le=1_000_000)


class ReservationStatus(StrEnum):
    """RESERVED can become RELEASED; FAILED and CANCELLED (cancelled before any reservation) are final."""

    RESERVED = "RESERVED"
    FAILED = "FAILED"
    RELEASED = "RELEASED"
    CANCELLED = "CANCELLED"


class Reservation(WireModel):
    """What inventory holds for one order."""

    order_id: OrderId
    status: ReservationStatus
    items: tuple[LineItem, ...] = ()


def merge_lines(items: Iterable[LineItem]) -> tuple[LineItem, ...]:
    """One line per product (quantities added up): a transaction may touch each product only once."""
    totals: Counter[str] = Counter()
    for item in items:
        totals[item.product_id] += item.quantity
    return tuple(LineItem(product_id=product_id, quantity=quantity) for product_id, quantity in sorted(totals.items()))

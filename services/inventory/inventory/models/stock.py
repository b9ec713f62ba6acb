"""Products with their available stock, and the one reservation an order can hold."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.bodies import RequestBody
from shop_contracts.base import LineItem, OrderId, PositiveMoney, ProductId, WireModel

MAX_STOCK = 1_000_000
PRODUCT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class ProductShown(WireModel):
    """A product as the catalogue shows it."""

    product_id: ProductId
    name: str
    price: PositiveMoney
    available: int


class Product(WireModel):
    """A product and how many units are free to reserve; `version` moves on with every change of it
    (a reservation and a release included), and is its ETag."""

    product_id: ProductId
    name: str
    price: PositiveMoney
    available: int = Field(ge=0)
    version: int = Field(default=1, ge=1)

    @property
    def etag(self) -> str:
        """The strong ETag of this version of the product."""
        return f'"{self.version}"'

    def shown(self) -> ProductShown:
        """What the catalogue shows of it (the version travels as the ETag)."""
        return ProductShown(product_id=self.product_id, name=self.name, price=self.price, available=self.available)


class ProductUpdate(RequestBody):
    """The body of `PUT /products/{productId}`: `available` sets the stock to that number."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    price: PositiveMoney
    available: int = Field(ge=0, le=MAX_STOCK)


class Restock(RequestBody):
    """The body of `POST /products/{productId}/restock`: units to add to what is free now."""

    quantity: int = Field(ge=1, le=MAX_STOCK)


class ReservationStatus(StrEnum):
    """RESERVED becomes RELEASED (the order was cancelled) or COMMITTED (confirmed: never released);
    FAILED and CANCELLED (cancelled before any reservation) are final."""

    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    FAILED = "FAILED"
    RELEASED = "RELEASED"
    CANCELLED = "CANCELLED"


class Reservation(WireModel):
    """What inventory holds for one order."""

    order_id: OrderId
    status: ReservationStatus
    items: tuple[LineItem, ...] = ()

"""The order service's own copy of the catalogue's prices, fed by inventory's ProductPriced events."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Self

from pydantic import Field

from order.models.errors import TotalTooLarge, UnknownProducts
from shop_contracts.base import LineItem, PositiveMoney, PricedLine, ProductId, WireModel
from shop_contracts.inventory import ProductPriced

# The most one order may cost: the largest amount the money contract carries.
MAX_TOTAL = Decimal("9999999999.99")


class CataloguePrice(WireModel):
    """A product's price as the order service last learnt it, with the product version it came from."""

    product_id: ProductId
    name: str
    price: PositiveMoney
    version: int = Field(ge=1)

    @classmethod
    def of(cls, event: ProductPriced) -> Self:
        """The price a ProductPriced event announces."""
        return cls(product_id=event.product_id, name=event.name, price=event.price, version=event.version)


def newest(current: CataloguePrice | None, incoming: CataloguePrice) -> CataloguePrice:
    """The price a copy keeps: the one of the higher product version. Prices may arrive in any order and
    more than once; folding them with this gives the newest whatever the order."""
    if current is None or incoming.version > current.version:
        return incoming
    return current


def price_lines(
    items: Sequence[LineItem], prices: Mapping[str, CataloguePrice]
) -> tuple[tuple[PricedLine, ...], Decimal]:
    """Each line with its unit price from the catalogue copy, and the order's total.

    Raises
    ------
    UnknownProducts
        Naming every line whose product has no price.
    TotalTooLarge
        When the total is above what one order may cost.
    """
    unknown = [(index, line.product_id) for index, line in enumerate(items) if line.product_id not in prices]
    if unknown:
        raise UnknownProducts(unknown)
    priced = tuple(
        PricedLine(product_id=line.product_id, quantity=line.quantity, unit_price=prices[line.product_id].price)
        for line in items
    )
    total = sum((line.unit_price * line.quantity for line in priced), Decimal("0.00"))
    if total > MAX_TOTAL:
        raise TotalTooLarge(total)
    return priced, total

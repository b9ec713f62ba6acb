"""Building blocks of every contract: camelCase wire models, money, identifiers and the domain event base."""

import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

APP_NAME = "shop"
# ASCII digits only: `\d` would also take other scripts' digits, which Decimal reads as numbers.
MONEY_PATTERN = r"^[0-9]{1,10}\.[0-9]{2}$"
_MONEY_RE = re.compile(MONEY_PATTERN)


def _money_from_wire(value: Any) -> Decimal:
    # Money travels as a decimal string with exactly two places: a float would lose cents and DynamoDB
    # rejects floats, so a JSON number is refused rather than coerced.
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    if not isinstance(value, str):
        raise ValueError('must be a string with exactly two decimals, e.g. "12.50"')
    if not _MONEY_RE.fullmatch(value):
        raise ValueError('must be a string with exactly two decimals, e.g. "12.50"')
    return Decimal(value)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be above zero")
    return value


_money_schema = WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["2599.98"]})
# Above zero: a non-zero digit before the point, or none before it and non-zero cents (no lookahead, so
# every schema tool can generate from it); the length bound keeps it to ten digits before the point.
POSITIVE_MONEY_PATTERN = r"^([0-9]{0,9}[1-9][0-9]{0,9}\.[0-9]{2}|0{1,10}\.(0[1-9]|[1-9][0-9]))$"
_positive_money_schema = WithJsonSchema(
    {"type": "string", "pattern": POSITIVE_MONEY_PATTERN, "maxLength": 13, "examples": ["2599.98"]}
)
_money_to_wire = PlainSerializer(lambda value: f"{value:.2f}", return_type=str)

Money = Annotated[Decimal, BeforeValidator(_money_from_wire), _money_to_wire, _money_schema]
"""A non-negative amount of money: a two-place decimal string on the wire, a Decimal in code."""

PositiveMoney = Annotated[
    Decimal, BeforeValidator(_money_from_wire), AfterValidator(_positive), _money_to_wire, _positive_money_schema
]
"""An amount above zero."""

OrderId = Annotated[str, Field(min_length=1, max_length=64)]
ProductId = Annotated[str, Field(min_length=1, max_length=64)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=1000)]


class WireModel(BaseModel):
    """A model that is camelCase on the wire and snake_case in code."""

    # defer_build: a model's validator is built when first used, not at import, so a function pays only
    # for the models it reads or writes (a consumer imports every event's model and uses one or two).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON-compatible camelCase form of the model."""
        return self.model_dump(mode="json", by_alias=True)


class DomainEvent(WireModel):
    """The `data` of an event. Its class name is its detail-type; `service` makes its source."""

    service: ClassVar[str]

    def source(self) -> str:
        """The EventBridge `source` of this event: `<app>.<service>`."""
        return f"{APP_NAME}.{self.service}"

    @classmethod
    def allowed_sources(cls) -> frozenset[str]:
        """Every `source` this detail-type may come from."""
        return frozenset({f"{APP_NAME}.{cls.service}"})

    @classmethod
    def detail_type(cls) -> str:
        """The EventBridge `detail-type` of this event: the class name."""
        return cls.__name__


class LineItem(WireModel):
    """One line of an order: a product and how many units of it."""

    product_id: ProductId
    quantity: Quantity


class PricedLine(LineItem):
    """A line of a placed order with the unit price the order service charged for it."""

    unit_price: PositiveMoney


def merge_lines(items: Iterable[LineItem]) -> tuple[LineItem, ...]:
    """One line per product (quantities added up): a transaction may touch each product only once."""
    totals: Counter[str] = Counter()
    for item in items:
        totals[item.product_id] += item.quantity
    return tuple(LineItem(product_id=product_id, quantity=quantity) for product_id, quantity in sorted(totals.items()))

"""The order service's copy of the catalogue: whatever the order and repetition of price events, it ends
at the newest price."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from order.dal.order_repository import OrderUnitOfWork
from order.logic.record_price import record_price
from order.models.catalogue import CataloguePrice, newest
from shop_contracts.inventory import ProductPriced
from tests.support.builders import envelope
from tests.support.memory import InMemoryTable

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


def priced(version: int, price: Decimal, product_id: str = "P") -> ProductPriced:
    return ProductPriced(product_id=product_id, name=f"v{version}", price=price, version=version)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[ProductPriced], list[int]]:
    """A product's price history (versions 1..n, some skipped as stock-only changes), and a delivery
    schedule over it: any order, any event more than once."""
    versions = sorted(draw(st.sets(st.integers(min_value=1, max_value=40), min_size=1, max_size=12)))
    history = [priced(version, draw(amounts)) for version in versions]
    indexes = st.integers(min_value=0, max_value=len(history) - 1)
    schedule = draw(st.permutations(list(range(len(history))))) + draw(st.lists(indexes, max_size=10))
    return history, draw(st.permutations(schedule))


@settings(max_examples=300, deadline=None)
@given(histories())
def test_any_order_of_price_events_gives_the_newest_price(
    history_and_schedule: tuple[list[ProductPriced], list[int]],
) -> None:
    history, schedule = history_and_schedule
    uow = OrderUnitOfWork(InMemoryTable.like("OrderTable"))
    events = [envelope(event, order_id=event.product_id) for event in history]

    for index in schedule:
        record_price(events[index], uow=uow)

    latest = max(history, key=lambda event: event.version)
    assert uow.prices.get("P") == CataloguePrice.of(latest)


@given(st.lists(st.builds(priced, st.integers(min_value=1, max_value=9), amounts), min_size=1, max_size=8))
def test_newest_is_a_fold_that_ignores_order(prices: list[ProductPriced]) -> None:
    def fold(events: list[ProductPriced]) -> CataloguePrice | None:
        kept: CataloguePrice | None = None
        for event in events:
            kept = newest(kept, CataloguePrice.of(event))
        return kept

    assert fold(prices) is not None
    assert fold(prices).version == fold(list(reversed(prices))).version == max(p.version for p in prices)  # type: ignore[union-attr]


def test_an_older_price_that_loses_the_race_to_a_newer_one_is_dropped() -> None:
    newer, older = (
        envelope(priced(3, Decimal("9.00")), order_id="P"),
        envelope(priced(2, Decimal("5.00")), order_id="P"),
    )

    class Racing(InMemoryTable):
        def write(self, writes: object) -> None:  # type: ignore[override]
            if not getattr(self, "raced", False):
                self.raced = True
                record_price(newer, uow=OrderUnitOfWork(self))
            super().write(writes)  # type: ignore[arg-type]

    racing = OrderUnitOfWork(Racing(**vars(InMemoryTable.like("OrderTable"))))
    record_price(older, uow=racing)  # reads "nothing", then the newer one commits first

    assert racing.prices.get("P") == CataloguePrice.of(newer.data)

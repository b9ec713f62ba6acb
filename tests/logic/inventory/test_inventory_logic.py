"""Inventory logic on fakes: all lines or none, stock never negative, one reservation and one release."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.logic.commit_stock import commit_stock
from inventory.logic.release_stock import release_stock, report_release_failure
from inventory.logic.reserve_stock import reserve_stock
from inventory.models.errors import OutOfStock, ProductMissing
from inventory.models.stock import Product, ReservationStatus
from shared.errors import StockChangedConcurrently
from shared.storage import Delete, Write
from shared.testing.guards import UnguardedTable
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCancelled, OrderConfirmed
from shop_contracts.payment import PaymentProcessed
from tests.support.builders import envelope, lines, published, published_types
from tests.support.memory import InMemoryTable


def stock(uow: InventoryUnitOfWork, **available: int) -> None:
    with uow.starting("seed") as step:
        for product_id, units in available.items():
            current = uow.products.get(product_id)
            product = Product(product_id=product_id, name=product_id, price=Decimal("1.00"), available=units)
            step.products.save(product, replacing=current)


def available(uow: InventoryUnitOfWork, product_id: str) -> int:
    return uow.products.available(product_id)


def paid(order_id: str, *pairs: tuple[str, int]) -> Envelope[Any]:
    return envelope(
        PaymentProcessed(order_id=order_id, payment_id="pay-1", amount=Decimal("10.00"), items=lines(*pairs))
    )


def cancelled(order_id: str) -> Envelope[Any]:
    return envelope(OrderCancelled(order_id=order_id, reason="timeout"))


def table(uow: InventoryUnitOfWork) -> InMemoryTable:
    assert isinstance(uow.table, InMemoryTable)
    return uow.table


def test_every_line_is_reserved_in_one_commit(inventory_uow: InventoryUnitOfWork) -> None:
    stock(inventory_uow, A=5, B=3)

    reserve_stock(paid("o-1", ("A", 2), ("B", 3), ("A", 1)), uow=inventory_uow)

    assert (available(inventory_uow, "A"), available(inventory_uow, "B")) == (2, 0)
    [(detail_type, detail)] = published(table(inventory_uow))
    assert detail_type == "InventoryReserved"
    assert detail["data"]["items"] == [{"productId": "A", "quantity": 3}, {"productId": "B", "quantity": 3}]


def test_one_short_line_reserves_nothing_and_reports_every_shortage(inventory_uow: InventoryUnitOfWork) -> None:
    stock(inventory_uow, A=5, B=1)

    reserve_stock(paid("o-1", ("A", 2), ("B", 3), ("GHOST", 1)), uow=inventory_uow)

    assert (available(inventory_uow, "A"), available(inventory_uow, "B")) == (5, 1)
    [(detail_type, detail)] = published(table(inventory_uow))
    assert detail_type == "InventoryFailed"
    assert detail["data"]["shortages"] == [
        {"productId": "B", "requested": 3, "available": 1},
        {"productId": "GHOST", "requested": 1, "available": 0},
    ]
    reservation = inventory_uow.reservations.get("o-1")
    assert reservation is not None and reservation.status is ReservationStatus.FAILED


def test_a_redelivered_payment_reserves_once(inventory_uow: InventoryUnitOfWork) -> None:
    stock(inventory_uow, A=5)
    event = paid("o-1", ("A", 2))

    reserve_stock(event, uow=inventory_uow)
    reserve_stock(paid("o-1", ("A", 2)), uow=inventory_uow)  # a second, different event for the same order

    assert available(inventory_uow, "A") == 3
    assert published_types(table(inventory_uow)) == ["InventoryReserved"]


def test_stock_restocked_between_the_failure_and_the_report_is_retried() -> None:
    class RestockedRightAfterAFailure(InMemoryTable):
        def write(self, writes: Sequence[Write]) -> None:
            try:
                super().write(writes)
            except OutOfStock:
                self.items["PRODUCT#A"]["available"] = 5
                raise

    uow = InventoryUnitOfWork(RestockedRightAfterAFailure())
    stock(uow, A=1)

    with pytest.raises(StockChangedConcurrently):
        reserve_stock(paid("o-1", ("A", 2)), uow=uow)
    reserve_stock(paid("o-1", ("A", 2)), uow=uow)  # the redelivery

    assert available(uow, "A") == 3


def test_a_cancel_before_payment_means_nothing_is_ever_reserved(inventory_uow: InventoryUnitOfWork) -> None:
    stock(inventory_uow, A=5)

    release_stock(cancelled("o-1"), uow=inventory_uow)
    reserve_stock(paid("o-1", ("A", 2)), uow=inventory_uow)

    assert available(inventory_uow, "A") == 5
    assert published_types(table(inventory_uow)) == []


def test_a_release_gives_the_units_back_once(inventory_uow: InventoryUnitOfWork) -> None:
    stock(inventory_uow, A=5)
    reserve_stock(paid("o-1", ("A", 2)), uow=inventory_uow)
    cancel = cancelled("o-1")

    release_stock(cancel, uow=inventory_uow)
    release_stock(cancel, uow=inventory_uow)
    release_stock(cancelled("o-1"), uow=inventory_uow)

    assert available(inventory_uow, "A") == 5
    assert published_types(table(inventory_uow)) == ["InventoryReserved", "InventoryReleased"]


def test_a_release_to_a_vanished_product_is_retried_then_reported(inventory_uow: InventoryUnitOfWork) -> None:
    stock(inventory_uow, A=5, B=5)
    reserve_stock(paid("o-1", ("A", 1), ("B", 1)), uow=inventory_uow)
    table(inventory_uow).write([Delete({"pk": "PRODUCT#B"})])
    cancel = cancelled("o-1")

    with pytest.raises(ProductMissing):
        release_stock(cancel, uow=inventory_uow)
    assert available(inventory_uow, "A") == 4  # nothing half-released
    report_release_failure(cancel, ProductMissing("B"), uow=inventory_uow)

    assert published_types(table(inventory_uow))[-1] == "CompensationFailed"
    failure = published(table(inventory_uow))[-1][1]["data"]
    assert failure["step"] == "release_inventory"
    assert failure["reason"] == failure["reasonCode"] == "product_missing"  # a code; the error's text is logged
    stock(inventory_uow, B=0)
    release_stock(cancel, uow=inventory_uow)  # the redrive after the operator restored the product
    assert (available(inventory_uow, "A"), available(inventory_uow, "B")) == (5, 1)


def test_without_the_guards_a_duplicate_reserves_twice() -> None:
    inner = InMemoryTable()
    uow = InventoryUnitOfWork(UnguardedTable(inner))
    stock(uow, A=5)
    event = paid("o-1", ("A", 2))

    reserve_stock(event, uow=uow)
    reserve_stock(event, uow=uow)

    assert available(uow, "A") == 1
    assert published_types(inner) == ["InventoryReserved", "InventoryReserved"]


def test_a_confirmed_orders_reservation_is_committed_and_a_later_cancel_releases_nothing(
    inventory_uow: InventoryUnitOfWork,
) -> None:
    stock(inventory_uow, A=5)
    reserve_stock(paid("o-1", ("A", 2)), uow=inventory_uow)
    confirmed = envelope(OrderConfirmed(order_id="o-1"))

    commit_stock(confirmed, uow=inventory_uow)
    commit_stock(confirmed, uow=inventory_uow)
    release_stock(cancelled("o-1"), uow=inventory_uow)  # forged: never after a confirm

    reservation = inventory_uow.reservations.get("o-1")
    assert reservation is not None and reservation.status is ReservationStatus.COMMITTED
    assert available(inventory_uow, "A") == 3
    assert published_types(table(inventory_uow)) == ["InventoryReserved"]


def test_a_redelivered_confirmation_is_no_error_but_one_without_a_reservation_is(
    inventory_uow: InventoryUnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    stock(inventory_uow, A=5)
    reserve_stock(paid("o-1", ("A", 2)), uow=inventory_uow)
    confirmed = envelope(OrderConfirmed(order_id="o-1"))
    commit_stock(confirmed, uow=inventory_uow)
    caplog.clear()

    commit_stock(confirmed, uow=inventory_uow)
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == []

    commit_stock(envelope(OrderConfirmed(order_id="o-9")), uow=inventory_uow)
    assert "confirmation refused: no reservation to commit" in [
        r.message for r in caplog.records if r.levelname == "ERROR"
    ]

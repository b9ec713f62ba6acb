"""Logic tests: each service's real logic on its unit of work over an in-memory table; no AWS, no moto."""

from __future__ import annotations

import pytest

from inventory.dal.inventory_repository import InventoryUnitOfWork
from order.dal.order_repository import OrderUnitOfWork
from payment.dal.payment_repository import PaymentUnitOfWork
from tests.support.fakes import CountingGateway, FakeScheduler
from tests.support.memory import InMemoryTable


@pytest.fixture
def order_uow() -> OrderUnitOfWork:
    return OrderUnitOfWork(InMemoryTable.like("OrderTable"))


@pytest.fixture
def payment_uow() -> PaymentUnitOfWork:
    return PaymentUnitOfWork(InMemoryTable.like("PaymentTable"))


@pytest.fixture
def inventory_uow() -> InventoryUnitOfWork:
    return InventoryUnitOfWork(InMemoryTable.like("InventoryTable"))


@pytest.fixture
def gateway() -> CountingGateway:
    return CountingGateway()


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()

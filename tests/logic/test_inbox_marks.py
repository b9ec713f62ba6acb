"""Where a step's inbox mark goes: on the service's record of the order the event names, whatever the
step writes; a record of its own for an event that names no order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order.dal.order_repository import OrderUnitOfWork
from payment.dal.payment_repository import PaymentUnitOfWork
from payment.logic.charge_order import charge_order
from payment.logic.settle_payment import settle_payment
from shared.errors import DuplicateEvent, WriteContention
from shared.outbox import APPLIED_EVENTS, INBOX_PREFIX
from shared.storage import Put
from shop_contracts.inventory import ProductPriced
from shop_contracts.order import OrderConfirmed
from tests.support.builders import envelope, order_created
from tests.support.fakes import TOKENS, CountingGateway
from tests.support.memory import InMemoryTable

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_each_event_of_an_order_is_marked_on_its_record_with_no_record_of_its_own() -> None:
    table = InMemoryTable()
    uow, created = PaymentUnitOfWork(table), order_created()
    confirmed = envelope(OrderConfirmed(order_id="o-1"), cause=created.metadata)

    charge_order(created, uow=uow, gateway=CountingGateway(decline_rate=0.0), tokens=TOKENS, now=NOW)
    settle_payment(confirmed, uow=uow)

    assert table.keys(INBOX_PREFIX) == []
    assert table.items["PAYMENT#o-1"][APPLIED_EVENTS] == {created.metadata.event_id, confirmed.metadata.event_id}
    with pytest.raises(DuplicateEvent), uow.reacting_to(confirmed) as step:
        step.payments.get("o-1")


def test_a_step_that_writes_nothing_on_the_record_still_marks_it() -> None:
    table = InMemoryTable()
    uow, created = PaymentUnitOfWork(table), order_created()
    charge_order(created, uow=uow, gateway=CountingGateway(decline_rate=0.0), tokens=TOKENS, now=NOW)
    confirmed = envelope(OrderConfirmed(order_id="o-1"), cause=created.metadata)

    with uow.reacting_to(confirmed) as step:
        step.stage(Put({"pk": "ELSEWHERE"}))

    assert confirmed.metadata.event_id in table.items["PAYMENT#o-1"][APPLIED_EVENTS]
    # So a second delivery is a duplicate whichever way it goes: here the settlement it did not make.
    with pytest.raises(DuplicateEvent):
        settle_payment(confirmed, uow=uow)


def test_marking_needs_the_record_to_exist_and_writes_nothing_until_it_does() -> None:
    table = InMemoryTable()
    confirmed = envelope(OrderConfirmed(order_id="o-9"))

    with (
        pytest.raises(WriteContention, match="PAYMENT#o-9 does not exist"),
        PaymentUnitOfWork(table).reacting_to(confirmed) as step,
    ):
        step.stage(Put({"pk": "ELSEWHERE"}))

    assert table.items == {}


def test_a_step_may_not_replace_the_record_that_holds_the_marks() -> None:
    table = InMemoryTable()
    with (
        pytest.raises(ValueError, match="only update PAYMENT#o-1 or create it"),
        PaymentUnitOfWork(table).reacting_to(envelope(OrderConfirmed(order_id="o-1"))) as step,
    ):
        step.stage(Put({"pk": "PAYMENT#o-1", "status": "SETTLED"}))
    assert table.items == {}


def test_an_event_that_names_no_order_has_a_mark_record_of_its_own() -> None:
    table = InMemoryTable()
    priced = envelope(ProductPriced(product_id="PROD-001", name="Widget", price=Decimal("9.99"), version=1))

    with OrderUnitOfWork(table).reacting_to(priced) as step:
        step.stage(Put({"pk": "PRICE#PROD-001", "price": "9.99"}))

    assert table.keys(INBOX_PREFIX) == [f"{INBOX_PREFIX}{priced.metadata.event_id}"]
    with pytest.raises(DuplicateEvent), OrderUnitOfWork(table).reacting_to(priced):
        pass

"""The projector on an in-memory table: every event recorded once, races retried, the view beside them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from saga.dal.saga_repository import SagaRecord, SagaRepository
from saga.logic.fold import saga_view, seen_event
from saga.logic.project_event import ATTEMPTS, project_event, project_events
from shared.errors import SagaChangedConcurrently
from shared.storage import Put, Write
from shop_contracts.order import OrderConfirmed
from shop_contracts.payment import PaymentProcessed
from shop_contracts.saga import SagaView, saga_key
from tests.support.builders import envelope, lines
from tests.support.fakes import RecordedMeasures
from tests.support.memory import InMemoryTable
from tests.support.sagas import (
    CANCELLED_OOS,
    CHARGED,
    CREATED,
    LATE_REFUND,
    REFUND_FAILED,
    REFUNDED,
    RESERVED,
    SHORT,
)
from tests.support.sagas import CONFIRMED as SAGA_CONFIRMED

PAID = envelope(PaymentProcessed(order_id="o-1", payment_id="p", amount=Decimal("1.00"), items=lines(("A", 1))))
CONFIRMED = envelope(OrderConfirmed(order_id="o-1"), cause=PAID.metadata)


def test_an_event_is_recorded_once_and_the_view_folded_beside_it() -> None:
    table = InMemoryTable()
    sagas = SagaRepository(table)

    assert project_event(PAID, sagas=sagas, measures=RecordedMeasures())
    assert not project_event(PAID, sagas=sagas, measures=RecordedMeasures())
    assert project_event(CONFIRMED, sagas=sagas, measures=RecordedMeasures())

    item = table.get(saga_key("o-1"))
    assert item is not None and item["version"] == 2
    assert {entry["eventId"] for entry in item["view"]["timeline"]} == {
        PAID.metadata.event_id,
        CONFIRMED.metadata.event_id,
    }
    assert item["view"]["status"] == "COMPLETED"


def test_a_race_with_another_event_of_the_saga_is_retried() -> None:
    class Raced(InMemoryTable):
        """The other event of the saga commits between our read and our write, once."""

        def write(self, writes: Sequence[Write]) -> None:
            if not self.commits and not getattr(self, "raced", False):
                self.raced = True
                project_event(CONFIRMED, sagas=SagaRepository(self), measures=RecordedMeasures())
            super().write(writes)

    table = Raced()
    assert project_event(PAID, sagas=SagaRepository(table), measures=RecordedMeasures())
    item = table.get(saga_key("o-1"))
    assert item is not None and item["version"] == 2 and item["view"]["status"] == "COMPLETED"


def test_a_saga_that_keeps_changing_is_given_back_to_the_queue() -> None:
    class Busy(InMemoryTable):
        def write(self, writes: Sequence[Write]) -> None:
            raise SagaChangedConcurrently("o-1")

    with pytest.raises(SagaChangedConcurrently):
        project_event(PAID, sagas=SagaRepository(Busy()), measures=RecordedMeasures())
    assert ATTEMPTS > 1


def test_each_event_is_measured_once_and_the_duration_when_both_ends_are_known() -> None:
    from tests.support.sagas import CANCELLED_OOS, CHARGED, CREATED, REFUND_FAILED, SHORT

    measured = RecordedMeasures()
    sagas = SagaRepository(InMemoryTable())
    # The end arrives before the start, and a duplicate of it after.
    for event in (CANCELLED_OOS, CHARGED, SHORT, CREATED, CANCELLED_OOS, REFUND_FAILED):
        project_event(event, sagas=sagas, measures=measured)

    assert measured.seen == [
        ("OrdersCancelled", 1, ("reason", "out_of_stock")),
        ("OrdersPlaced", 1, None),
        ("SagaDuration", 4.0, ("outcome", "CANCELLED")),  # from the events' own times, not arrival
        ("CompensationFailures", 1, ("step", "refund_payment")),
    ]


def test_the_events_of_one_saga_are_recorded_in_one_write_and_measured_once() -> None:
    table = InMemoryTable()
    sagas = SagaRepository(table)
    measures = RecordedMeasures()

    assert project_events([CREATED, CHARGED, RESERVED, SAGA_CONFIRMED, CHARGED], sagas=sagas, measures=measures) == 4
    assert project_events([CHARGED, SAGA_CONFIRMED], sagas=sagas, measures=RecordedMeasures()) == 0

    item = table.get(saga_key("o-1"))
    assert item is not None and item["version"] == 1 and table.commits == 1
    assert item["view"]["status"] == "COMPLETED"
    # Both ends known in the same write: the saga's duration is measured once, like each count.
    assert measures.names().count("SagaDuration") == 1
    assert measures.names().count("OrdersPlaced") == 1 and measures.names().count("OrdersConfirmed") == 1


def test_a_later_write_that_learns_the_second_end_measures_the_duration() -> None:
    sagas = SagaRepository(InMemoryTable())
    first, second = RecordedMeasures(), RecordedMeasures()

    project_events([CREATED, CHARGED], sagas=sagas, measures=first)
    project_events([RESERVED, SAGA_CONFIRMED], sagas=sagas, measures=second)

    assert "SagaDuration" not in first.names()
    assert second.names().count("SagaDuration") == 1


def test_events_of_two_sagas_are_never_folded_together() -> None:
    other = envelope(OrderConfirmed(order_id="o-2"))
    with pytest.raises(ValueError, match="one saga"):
        project_events([SAGA_CONFIRMED, other], sagas=SagaRepository(InMemoryTable()), measures=RecordedMeasures())


def test_the_item_keeps_each_event_once_and_gives_every_seen_event_back() -> None:
    saga = [CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS, REFUND_FAILED]
    table = InMemoryTable()
    sagas = SagaRepository(table)

    assert project_events(saga, sagas=sagas, measures=RecordedMeasures()) == len(saga)

    item = table.get(saga_key("o-1"))
    assert item is not None
    # The timeline names each event; beside it only what it leaves out: deadline, reason, step.
    assert "events" not in item
    assert item["details"] == {
        CREATED.metadata.event_id: {"deadline": "2026-11-22T10:05:00Z"},
        SHORT.metadata.event_id: {"reason": "out_of_stock"},
        CANCELLED_OOS.metadata.event_id: {"reason": "out_of_stock"},
        REFUND_FAILED.metadata.event_id: {"reason": "refund_rejected", "step": "refund_payment"},
    }
    assert sagas.get("o-1").events == {e.metadata.event_id: seen_event(e) for e in saga}
    # So a later event folds with all that came before, as when every event was kept whole.
    project_event(LATE_REFUND, sagas=sagas, measures=RecordedMeasures())
    assert SagaView.model_validate(table.get(saga_key("o-1"))["view"]) == saga_view(  # type: ignore[index]
        [seen_event(e) for e in [*saga, LATE_REFUND]]
    )


def test_an_item_written_with_whole_events_is_read_and_rewritten_compact() -> None:
    table = InMemoryTable()
    legacy = {e.metadata.event_id: seen_event(e) for e in (CREATED, CHARGED)}
    table.write(
        [Put({**saga_key("o-1"), "version": 3, "events": legacy, "view": saga_view(list(legacy.values())).to_wire()})]
    )
    sagas = SagaRepository(table)

    assert sagas.get("o-1").events == legacy
    assert project_event(RESERVED, sagas=sagas, measures=RecordedMeasures())

    item = table.get(saga_key("o-1"))
    assert item is not None and "events" not in item and item["version"] == 4
    assert [entry["type"] for entry in item["view"]["timeline"]] == [
        "OrderCreated",
        "PaymentProcessed",
        "InventoryReserved",
    ]


def test_a_view_that_is_not_the_fold_of_the_recorded_events_is_refused() -> None:
    table = InMemoryTable()
    events = {e.metadata.event_id: seen_event(e) for e in (CREATED, CHARGED)}

    with pytest.raises(ValueError, match="not the fold"):
        SagaRepository(table).save(
            "o-1", SagaRecord(events=events, version=1), saga_view([seen_event(CREATED)]), expected_version=0
        )
    assert table.get(saga_key("o-1")) is None

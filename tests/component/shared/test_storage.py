"""The storage port, one suite for both tables: DynamoDB (on moto) and the in-memory fake.

Every guard of the services is a `Condition` on a write; this suite is what lets the logic tests and the
simulator trust the in-memory table to judge those conditions exactly as DynamoDB does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import boto3
import pytest

from shared.errors import DuplicateEvent, OrderChangedConcurrently, ShopError
from shared.outbox import inbox_put, outbox_put
from shared.storage import (
    APPLIED_EVENTS,
    Delete,
    DynamoTable,
    Put,
    Table,
    Update,
    Write,
    WriteConflict,
    absent,
    at_least,
    at_most,
    below,
    equals,
    exists,
    marking,
    missing,
    read_together,
    transition,
)
from shared.testing.guards import UnguardedTable
from shop_contracts.order import OrderConfirmed
from tests.component.conftest import Tables
from tests.support.builders import envelope
from tests.support.memory import InMemoryTable


class StockShort(ShopError):
    """A test error for a failed stock condition."""


@pytest.fixture(params=["dynamodb", "memory"])
def table(request: pytest.FixtureRequest) -> Iterator[Table]:
    if request.param == "memory":
        yield InMemoryTable()
    else:
        tables: Tables = request.getfixturevalue("tables")
        yield DynamoTable(boto3.resource("dynamodb"), tables.order.name)


def test_a_put_then_a_read_gives_plain_values_back(table: Table) -> None:
    table.write([Put({"pk": "A", "n": 3, "money": "12.50", "lines": [{"q": 2}], "none": None})])
    assert table.get({"pk": "A"}) == {"pk": "A", "n": 3, "money": "12.50", "lines": [{"q": 2}], "none": None}
    assert table.get({"pk": "B"}) is None


def test_a_commit_applies_every_write_or_none(table: Table) -> None:
    table.write([Put({"pk": "STOCK", "available": 1})])
    writes: list[Write] = [
        Put({"pk": "ORDER", "status": "PENDING"}, condition=absent()),
        Update({"pk": "STOCK"}, add={"available": -2}, condition=at_least("available", 2), conflict=StockShort),
    ]
    with pytest.raises(StockShort):
        table.write(writes)
    assert table.get({"pk": "ORDER"}) is None
    assert table.get({"pk": "STOCK"}) == {"pk": "STOCK", "available": 1}


def test_the_first_failing_write_that_names_an_error_decides(table: Table) -> None:
    event = envelope(OrderConfirmed(order_id="o-1"))
    table.write([inbox_put(event), Put({"pk": "ORDER#o-1", "status": "PENDING"})])
    again: list[Write] = [
        inbox_put(event),
        transition(
            {"pk": "ORDER#o-1"}, from_="CONFIRMED", to="CANCELLED", conflict=lambda: OrderChangedConcurrently("o-1")
        ),
    ]
    with pytest.raises(DuplicateEvent):
        table.write(again)
    with pytest.raises(OrderChangedConcurrently):
        table.write(again[1:])


def test_a_failed_condition_without_an_error_of_its_own_is_a_write_conflict(table: Table) -> None:
    table.write([Put({"pk": "A"})])
    with pytest.raises(WriteConflict):
        table.write([Put({"pk": "A"}, condition=absent()), Put({"pk": "B"})])
    assert table.get({"pk": "B"}) is None


def test_updates_set_add_and_remove(table: Table) -> None:
    table.write([Put({"pk": "A", "status": "PENDING", "available": 5, "gone": "x"})])
    table.write(
        [
            Update(
                {"pk": "A"},
                set={"status": "DONE", "reason": None},
                add={"available": -3},
                remove=("gone",),
                condition=equals("status", "PENDING") & exists(),
            )
        ]
    )
    assert table.get({"pk": "A"}) == {"pk": "A", "status": "DONE", "available": 2, "reason": None}


@pytest.mark.parametrize(
    ("condition", "applies"),
    [
        (absent(), False),
        (exists(), True),
        (equals("status", "PENDING"), True),
        (equals("status", "DONE"), False),
        (equals("missing", "x"), False),
        (at_least("n", 3), True),
        (at_least("n", 4), False),
        (at_most("n", 3), True),
        (below("n", 3), False),
        (absent() | at_most("n", 3), True),
        (absent() | below("n", 3), False),
        (exists() & equals("status", "PENDING") & at_least("n", 1), True),
        (missing("paid"), True),
        (missing("status"), False),
        (equals("status", "PENDING") & missing("paid"), True),
    ],
)
def test_conditions_mean_the_same_on_both_tables(table: Table, condition: object, applies: bool) -> None:
    table.write([Put({"pk": "A", "status": "PENDING", "n": 3})])
    write = Update({"pk": "A"}, set={"touched": 1}, condition=condition)  # type: ignore[arg-type]
    if applies:
        table.write([write])
        assert (table.get({"pk": "A"}) or {}).get("touched") == 1
    else:
        with pytest.raises(WriteConflict):
            table.write([write])
        assert "touched" not in (table.get({"pk": "A"}) or {})


def test_an_event_is_put_in_the_outbox_once(table: Table) -> None:
    event = envelope(OrderConfirmed(order_id="o-1"))
    table.write([outbox_put(event)])
    with pytest.raises(WriteConflict):
        table.write([outbox_put(event)])
    assert table.get({"pk": f"OUTBOX#{event.metadata.event_id}"}) is not None


def test_a_guarded_delete(table: Table) -> None:
    table.write([Put({"pk": "A"})])
    table.write([Delete({"pk": "A"}, condition=exists())])
    assert table.get({"pk": "A"}) is None
    with pytest.raises(WriteConflict):
        table.write([Delete({"pk": "A"}, condition=exists())])


def test_remove_deletes_every_key_in_batches_and_ignores_missing_ones(table: Table) -> None:
    keys = [{"pk": f"OUTBOX#{n}"} for n in range(60)]  # more than two BatchWriteItem calls' worth
    table.write([Put({**key, "n": 1}) for key in keys[:30]])
    table.write([Put({**key, "n": 1}) for key in keys[30:]])
    table.write([Put({"pk": "ORDER#kept", "n": 1})])

    table.remove([*keys, {"pk": "OUTBOX#never-there"}])

    assert all(table.get(key) is None for key in keys)
    assert table.get({"pk": "ORDER#kept"}) == {"pk": "ORDER#kept", "n": 1}


# -- the inbox mark carried by a business item (`applies`) ----------------------------------------


def marks(table: Table, pk: str) -> set[str]:
    item = table.get({"pk": pk})
    assert item is not None
    return set(item.get(APPLIED_EVENTS, ()))


def test_a_write_that_applies_an_event_marks_its_item_once(table: Table) -> None:
    table.write([Put({"pk": "ORDER#o-1", "status": "PENDING"}, condition=absent(), applies="e-1")])
    pay = Update({"pk": "ORDER#o-1"}, set={"paid": True}, condition=equals("status", "PENDING"), applies="e-2")
    table.write([pay])
    assert marks(table, "ORDER#o-1") == {"e-1", "e-2"}

    # The same event again: refused as a duplicate, alone or in a commit, whatever else it writes.
    with pytest.raises(DuplicateEvent):
        table.write([pay])
    with pytest.raises(DuplicateEvent):
        table.write([Put({"pk": "OTHER"}), Update({"pk": "ORDER#o-1"}, set={"x": 1}, applies="e-1")])
    assert table.get({"pk": "OTHER"}) is None
    item = table.get({"pk": "ORDER#o-1"})
    assert item is not None and "x" not in item and item["paid"] is True


def test_a_marked_write_refused_by_its_own_condition_says_its_own_error(table: Table) -> None:
    table.write([Put({"pk": "ORDER#o-1", "status": "CONFIRMED"}, applies="e-1")])
    cancel = transition(
        {"pk": "ORDER#o-1"},
        from_="PENDING",
        to="CANCELLED",
        conflict=lambda: OrderChangedConcurrently("o-1"),
    )
    with pytest.raises(OrderChangedConcurrently):
        table.write([dataclasses.replace(cancel, applies="e-2")])
    with pytest.raises(OrderChangedConcurrently):  # in a commit too, failing beside another write
        table.write([Put({"pk": "STOCK"}, condition=exists()), dataclasses.replace(cancel, applies="e-2")])
    assert marks(table, "ORDER#o-1") == {"e-1"}


def test_a_duplicate_is_told_first_when_other_writes_fail_too(table: Table) -> None:
    table.write([Put({"pk": "STOCK", "available": 0}), Put({"pk": "RES#o-1", "status": "HELD"}, applies="e-1")])
    with pytest.raises(DuplicateEvent):
        table.write(
            [
                Update({"pk": "STOCK"}, add={"available": -1}, condition=at_least("available", 1), conflict=StockShort),
                Update({"pk": "RES#o-1"}, set={"status": "DONE"}, applies="e-1"),
            ]
        )


def test_only_a_write_that_keeps_the_marks_may_carry_one() -> None:
    assert marking(Put({"pk": "A"}, condition=absent()), "e-1") == Put({"pk": "A"}, condition=absent(), applies="e-1")
    assert marking(Update({"pk": "A"}, set={"a": 1}), "e-1") == Update({"pk": "A"}, set={"a": 1}, applies="e-1")
    assert marking(Put({"pk": "A"}), "e-1") is None  # would replace the item, marks and all
    assert marking(Put({"pk": "A"}, condition=absent() | equals("v", 1)), "e-1") is None
    assert marking(Delete({"pk": "A"}), "e-1") is None


def test_sets_grow_by_adding(table: Table) -> None:
    table.write([Update({"pk": "A"}, add={"tags": frozenset({"x"})})])
    table.write([Update({"pk": "A"}, add={"tags": frozenset({"y", "x"})})])
    item = table.get({"pk": "A"})
    assert item is not None and set(item["tags"]) == {"x", "y"}


@pytest.fixture(params=["dynamodb", "memory"])
def two_tables(request: pytest.FixtureRequest) -> Iterator[tuple[Table, Table]]:
    if request.param == "memory":
        yield InMemoryTable(), InMemoryTable()
    else:
        tables: Tables = request.getfixturevalue("tables")
        resource = boto3.resource("dynamodb")
        yield DynamoTable(resource, tables.order.name), DynamoTable(resource, tables.saga.name)


def test_items_of_two_tables_are_read_together_in_the_order_asked(two_tables: tuple[Table, Table]) -> None:
    first, second = two_tables
    first.write([Put({"pk": "A", "n": 1}), Put({"pk": "C", "n": 3})])
    second.write([Put({"pk": "A", "n": 2})])
    wanted = [(first, {"pk": "C"}), (second, {"pk": "A"}), (first, {"pk": "B"}), (first, {"pk": "A"})]

    assert read_together(wanted) == [{"pk": "C", "n": 3}, {"pk": "A", "n": 2}, None, {"pk": "A", "n": 1}]
    # A test seam that lets reads through (and may refuse them) is read through, not around.
    assert read_together([(UnguardedTable(first), {"pk": "A"}), (second, {"pk": "A"})]) == [
        {"pk": "A", "n": 1},
        {"pk": "A", "n": 2},
    ]

"""The storage port, one suite for both tables: DynamoDB (on moto) and the in-memory fake.

Every guard of the services is a `Condition` on a write; this suite is what lets the logic tests and the
simulator trust the in-memory table to judge those conditions exactly as DynamoDB does.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from shared import aws
from shared.errors import DuplicateEvent, OrderChangedConcurrently, ShopError
from shared.outbox import APPLIED_EVENTS, inbox_put, marking, outbox_put
from shared.storage import (
    Delete,
    Item,
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
    invariant,
    missing,
    transition,
    without,
)
from shared.storage.dynamodb import DynamoTable, ReadAhead, read_together
from shared.testing.guards import UnguardedTable
from shop_contracts.order import OrderConfirmed
from tests.component.conftest import Tables, dynamodb_calls
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
        yield DynamoTable(boto3.client("dynamodb"), tables.order.name)


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


# -- a refused write may look at the item it found (`explain`) ------------------------------------


def test_a_refused_write_can_name_its_error_from_the_item_it_found(table: Table) -> None:
    table.write([Put({"pk": "A", "v": 2})])

    def explain(found: Item | None) -> ShopError | None:
        return StockShort() if found is not None and found["v"] == 2 else None

    with pytest.raises(StockShort):  # seen on the item as it was, beside another write too
        table.write([Put({"pk": "B"}), Update({"pk": "A"}, set={"v": 3}, condition=equals("v", 1), explain=explain)])
    with pytest.raises(OrderChangedConcurrently):  # nothing to say: the write's own error
        table.write(
            [
                Update(
                    {"pk": "A"},
                    set={"v": 3},
                    condition=equals("v", 1),
                    conflict=lambda: OrderChangedConcurrently("o-1"),
                    explain=lambda found: None,
                )
            ]
        )
    assert table.get({"pk": "B"}) is None


def test_a_condition_without_its_invariants_keeps_the_rest() -> None:
    once = invariant("one_charge_per_order", absent())
    assert without(once, lambda name: True) is None
    assert without(once, lambda name: False) == once
    assert without(once & equals("v", 1), lambda name: True) == equals("v", 1)
    assert without(once | equals("v", 1), lambda name: True) is None  # one side always holds: so does the whole
    assert without(equals("v", 1), lambda name: True) == equals("v", 1)


# -- the inbox mark carried by a business item (shared.outbox.marking) -----------------------------


def marks(table: Table, pk: str) -> set[str]:
    item = table.get({"pk": pk})
    assert item is not None
    return set(item.get(APPLIED_EVENTS, ()))


def marked(write: Write, event_id: str) -> Write:
    carrying = marking(write, event_id)
    assert carrying is not None
    return carrying


def test_a_write_that_applies_an_event_marks_its_item_once(table: Table) -> None:
    table.write([marked(Put({"pk": "ORDER#o-1", "status": "PENDING"}, condition=absent()), "e-1")])
    pay = marked(Update({"pk": "ORDER#o-1"}, set={"paid": True}, condition=equals("status", "PENDING")), "e-2")
    table.write([pay])
    assert marks(table, "ORDER#o-1") == {"e-1", "e-2"}

    # The same event again: refused as a duplicate, alone or in a commit, whatever else it writes.
    with pytest.raises(DuplicateEvent):
        table.write([pay])
    with pytest.raises(DuplicateEvent):
        table.write([Put({"pk": "OTHER"}), marked(Update({"pk": "ORDER#o-1"}, set={"x": 1}), "e-1")])
    assert table.get({"pk": "OTHER"}) is None
    item = table.get({"pk": "ORDER#o-1"})
    assert item is not None and "x" not in item and item["paid"] is True


def test_a_marked_write_refused_by_its_own_condition_says_its_own_error(table: Table) -> None:
    table.write([Put({"pk": "ORDER#o-1", "status": "CONFIRMED", APPLIED_EVENTS: {"e-1"}})])
    cancel = transition(
        {"pk": "ORDER#o-1"},
        from_="PENDING",
        to="CANCELLED",
        conflict=lambda: OrderChangedConcurrently("o-1"),
    )
    with pytest.raises(OrderChangedConcurrently):
        table.write([marked(cancel, "e-2")])
    with pytest.raises(OrderChangedConcurrently):  # in a commit too, failing beside another write
        table.write([Put({"pk": "STOCK"}, condition=exists()), marked(cancel, "e-2")])
    assert marks(table, "ORDER#o-1") == {"e-1"}


def test_a_duplicate_is_told_first_when_other_writes_fail_too(table: Table) -> None:
    table.write(
        [Put({"pk": "STOCK", "available": 0}), Put({"pk": "RES#o-1", "status": "HELD", APPLIED_EVENTS: {"e-1"}})]
    )
    with pytest.raises(DuplicateEvent):
        table.write(
            [
                Update({"pk": "STOCK"}, add={"available": -1}, condition=at_least("available", 1), conflict=StockShort),
                marked(Update({"pk": "RES#o-1"}, set={"status": "DONE"}), "e-1"),
            ]
        )


def test_only_a_write_that_keeps_the_marks_may_carry_one() -> None:
    put = marked(Put({"pk": "A"}, condition=absent()), "e-1")
    assert isinstance(put, Put) and put.item[APPLIED_EVENTS] == {"e-1"}
    update = marked(Update({"pk": "A"}, set={"a": 1}), "e-1")
    assert isinstance(update, Update) and update.add == {APPLIED_EVENTS: frozenset({"e-1"})}
    assert marked(Put({"pk": "A"}, condition=invariant("one_charge_per_order", absent())), "e-1") is not None
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
        client = boto3.client("dynamodb")
        yield DynamoTable(client, tables.order.name), DynamoTable(client, tables.saga.name)


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


def test_a_batch_read_ahead_answers_each_items_next_read_once(tables: Tables) -> None:
    real = DynamoTable(aws.dynamodb(), tables.order.name)
    real.write([Put({"pk": "A", "n": 1}), Put({"pk": "B", "n": 2}), Put({"pk": "C", "n": 3})])
    table = ReadAhead(real)

    with dynamodb_calls() as calls:
        table.read_ahead([{"pk": "A"}, {"pk": "B"}, {"pk": "C"}, {"pk": "Z"}, {"pk": "A"}])
        assert calls == ["BatchGetItem"]
        # Each item read ahead, and one found absent, is answered without a call, once.
        assert [table.get({"pk": "A"}), table.get({"pk": "Z"})] == [{"pk": "A", "n": 1}, None]
        assert calls == ["BatchGetItem"]
        assert table.get({"pk": "A"}) == {"pk": "A", "n": 1}
        assert calls == ["BatchGetItem", "GetItem"]
        # An item written since is read from the table, with what was written.
        table.write([Update({"pk": "B"}, set={"n": 20})])
        assert table.get({"pk": "B"}) == {"pk": "B", "n": 20}
        assert calls == ["BatchGetItem", "GetItem", "UpdateItem", "GetItem"]
        # What no reaction used is forgotten at the end of the batch.
        table.forget()
        real.write([Update({"pk": "C"}, set={"n": 30})])
        assert table.get({"pk": "C"}) == {"pk": "C", "n": 30}


def test_one_item_is_not_read_ahead_and_a_failed_read_ahead_keeps_nothing(tables: Tables) -> None:
    real = DynamoTable(aws.dynamodb(), tables.order.name)
    real.write([Put({"pk": "A", "n": 1}), Put({"pk": "B", "n": 2})])
    table = ReadAhead(real)
    table.read_ahead([{"pk": "A"}, {"pk": "B"}])

    with dynamodb_calls() as calls:
        table.read_ahead([{"pk": "A"}, {"pk": "A"}])  # one item: one read, now or when it is needed
        assert calls == []
        assert table.get({"pk": "B"}) == {"pk": "B", "n": 2}  # the earlier batch's read ahead was dropped
        assert calls == ["GetItem"]

    with pytest.raises(ClientError):
        ReadAhead(DynamoTable(aws.dynamodb(), "no-such-table")).read_ahead([{"pk": "A"}, {"pk": "B"}])

"""The writes a step stages, the port that applies them, and the error a refused commit means.

A service's repositories describe their writes as `Put`, `Update` and `Delete`, each with the condition
that guards it and the typed error a failed condition means. A `Table` applies a list of writes
atomically: `storage.dynamodb.DynamoTable` in Lambda, an in-memory table in the tests that evaluates the
very same conditions.

A write may also ask to see the item its refused condition found (`explain`): the table then fetches it
with the refusal (DynamoDB's `ReturnValuesOnConditionCheckFailure`, no extra read) and the write's
`explain` may name a better error from it. The inbox (`shared.outbox`) uses it to tell a redelivered event
from a conflict; storage itself knows nothing of events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.errors import ShopError
from shared.storage.conditions import Condition, Item, equals, invariant

Key = dict[str, str]
# DynamoDB accepts at most 100 actions in one transaction, and 25 in one BatchWriteItem.
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_WRITE = 25

ConflictError = Callable[[], ShopError]
# Given the item a refused write found (None: no item), the error that explains the refusal, or None.
ExplainConflict = Callable[[Item | None], ShopError | None]


@dataclass(frozen=True)
class Put:
    """Write a whole item."""

    item: Item
    condition: Condition | None = None
    conflict: ConflictError | None = None
    explain: ExplainConflict | None = None

    @property
    def key(self) -> Key:
        """The item's key."""
        return {"pk": self.item["pk"]}


@dataclass(frozen=True)
class Update:
    """Change some attributes of an item in place: set them, add to numbers (a missing one counts as 0) or
    to sets of strings (a missing one counts as empty), or remove them."""

    key: Key
    set: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, int | frozenset[str]] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    condition: Condition | None = None
    conflict: ConflictError | None = None
    explain: ExplainConflict | None = None


@dataclass(frozen=True)
class Delete:
    """Remove an item."""

    key: Key
    condition: Condition | None = None
    conflict: ConflictError | None = None
    explain: ExplainConflict | None = None


Write = Put | Update | Delete


def transition(
    key: Key,
    *,
    attribute: str = "status",
    from_: str,
    to: str,
    conflict: ConflictError,
    also: Mapping[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    enforcing: str | None = None,
) -> Update:
    """Move `attribute` from `from_` to `to` only if it is still `from_` (the one state-machine write),
    setting `also` and removing `remove` with it; `enforcing` names the invariant that condition is."""
    condition = equals(attribute, from_)
    return Update(
        key,
        set={attribute: to, **(also or {})},
        remove=remove,
        condition=condition if enforcing is None else invariant(enforcing, condition),
        conflict=conflict,
    )


class WriteConflict(ShopError):
    """A condition failed on a write that names no error of its own."""

    def __init__(self, failed: Sequence[Write]) -> None:
        super().__init__(f"{len(failed)} guarded write(s) found their item changed")
        self.failed = list(failed)


def conflict_of(
    writes: Sequence[Write], failed: Sequence[int], found: Sequence[Item | None] | None = None
) -> ShopError:
    """The error for a commit whose writes at `failed` positions broke their conditions: the first error a
    failed write's `explain` names from the item it found (`found`, by position, when the table has them);
    else the first failed write's own error (so a step stages its most telling guard first); else a
    `WriteConflict`."""
    if found is not None:
        for index in sorted(failed):
            if (explain := writes[index].explain) is not None and (error := explain(found[index])) is not None:
                return error
    for index in sorted(failed):
        if (make := writes[index].conflict) is not None:
            return make()
    return WriteConflict([writes[index] for index in failed])


class Table(Protocol):
    """One service's table."""

    @property
    def name(self) -> str:
        """The table's name (for logs)."""
        ...

    def get(self, key: Key) -> Item | None:
        """The item, read consistently, with plain Python numbers; None when absent."""
        ...

    def write(self, writes: Sequence[Write]) -> None:
        """Apply every write or none.

        Raises
        ------
        ShopError
            The error of the first write whose condition failed (`conflict_of`), or `WriteContention`
            when the commit was refused for another reason (nothing was written; retry).
        """
        ...

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Items of a sparse index in one partition whose sort key is below a value, lowest first."""
        ...

    def remove(self, keys: Sequence[Key]) -> None:
        """Delete these items unconditionally, each on its own rather than in one commit, in as few calls
        as the store allows: for rows no step writes again (the outbox rows a relay published).

        Raises
        ------
        WriteContention
            When some were still not deleted after retries (those that were stay deleted; call again).
        """
        ...


def read_ahead(table: Table, keys: Sequence[Key]) -> None:
    """Read these items together for their next `get`s, if the table reads ahead
    (`shared.storage.dynamodb.ReadAhead`); any other table reads each when asked."""
    if (reads := getattr(table, "read_ahead", None)) is not None:
        reads(keys)


def forget_read_ahead(table: Table) -> None:
    """Drop what `read_ahead` read and nothing used."""
    if (forget := getattr(table, "forget", None)) is not None:
        forget()

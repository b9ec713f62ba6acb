"""The storage port every service writes through: items by key, guarded writes, all-or-nothing commits.

A service's repositories describe their writes as `Put`, `Update` and `Delete`, each with the condition
that guards it and the typed error a failed condition means. A `Table` applies a list of writes
atomically: `DynamoTable` here (one conditional call for one write, `TransactWriteItems` for more), and
an in-memory table in the tests that evaluates the very same conditions. So every guard is written
once, and the logic tests and the simulator run the same guards as production.

A `Put` or `Update` may also apply an event (`applies`): the event's id is then marked on the item it
writes, on the condition that it is not marked there yet, and a refused write whose item holds the mark
is a `DuplicateEvent`. That is the inbox carried by the business item the event is about (see
`shared.outbox.with_inbox_mark`): one conditional write where a mark of its own made a transaction.

A write may name the once-only `guard` its condition enforces (`inbox`, `one_charge_per_order`, ...).
Production never looks at the name; a test stack's wiring may wrap the table to drop those
conditions, which is how the negative controls prove that the checkers catch a missing guard.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from shared.errors import DuplicateEvent, ShopError, WriteContention
from shared.items import plain

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource

Key = dict[str, str]
Item = dict[str, Any]
# DynamoDB accepts at most 100 actions in one transaction, and 25 in one BatchWriteItem.
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_WRITE = 25
REMOVE_ATTEMPTS = 5
# The ids of the events applied to an item, where the write that applied them carried them (`applies`).
APPLIED_EVENTS = "appliedEvents"

# -- conditions ----------------------------------------------------------------------------------


class Condition:
    """What must hold of the item (or its absence) for a write to apply; combine with `&` and `|`."""

    def __and__(self, other: Condition) -> Condition:
        return AllOf((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))


@dataclass(frozen=True)
class ItemAbsent(Condition):
    """No item has this key yet."""


@dataclass(frozen=True)
class ItemExists(Condition):
    """An item has this key."""


Operator = Literal["=", "<", "<=", ">=", ">"]
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Compare(Condition):
    """An attribute of the item compared with a value (false when the attribute is missing)."""

    attribute: str
    operator: Operator
    value: Any


@dataclass(frozen=True)
class AttributeMissing(Condition):
    """The item has no such attribute (or no item exists)."""

    attribute: str


@dataclass(frozen=True)
class Lacks(Condition):
    """The item's set `attribute` does not hold `member` (true when the attribute or the item is missing)."""

    attribute: str
    member: str


@dataclass(frozen=True)
class AllOf(Condition):
    """Every part holds."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf(Condition):
    """At least one part holds."""

    parts: tuple[Condition, ...]


def absent() -> Condition:
    """The item does not exist."""
    return ItemAbsent()


def exists() -> Condition:
    """The item exists."""
    return ItemExists()


def missing(attribute: str) -> Condition:
    """The item has no `attribute`."""
    return AttributeMissing(attribute)


def lacks(attribute: str, member: str) -> Condition:
    """`member` is not in the set `attribute`."""
    return Lacks(attribute, member)


def equals(attribute: str, value: Any) -> Condition:
    """`attribute = value`."""
    return Compare(attribute, "=", value)


def at_least(attribute: str, value: Any) -> Condition:
    """`attribute >= value`."""
    return Compare(attribute, ">=", value)


def at_most(attribute: str, value: Any) -> Condition:
    """`attribute <= value`."""
    return Compare(attribute, "<=", value)


def below(attribute: str, value: Any) -> Condition:
    """`attribute < value`."""
    return Compare(attribute, "<", value)


def holds(condition: Condition | None, item: Item | None) -> bool:
    """Whether `condition` holds of `item` (None: no item), with DynamoDB's semantics."""
    match condition:
        case None:
            return True
        case ItemAbsent():
            return item is None
        case ItemExists():
            return item is not None
        case AttributeMissing(attribute):
            return item is None or attribute not in item
        case Lacks(attribute, member):
            return item is None or member not in (item.get(attribute) or ())
        case Compare(attribute, op, value):
            if item is None or item.get(attribute) is None:
                return False
            return bool(_OPERATORS[op](item[attribute], value))
        case AllOf(parts):
            return all(holds(part, item) for part in parts)
        case AnyOf(parts):
            return any(holds(part, item) for part in parts)
    raise TypeError(f"unknown condition {condition!r}")


# -- writes --------------------------------------------------------------------------------------

ConflictError = Callable[[], ShopError]


@dataclass(frozen=True)
class Put:
    """Write a whole item."""

    item: Item
    condition: Condition | None = None
    conflict: ConflictError | None = None
    guard: str | None = None
    applies: str | None = None  # an event id marked on the item (only with `condition=absent()`: see below)

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
    guard: str | None = None
    applies: str | None = None  # an event id added to the item's marks


@dataclass(frozen=True)
class Delete:
    """Remove an item."""

    key: Key
    condition: Condition | None = None
    conflict: ConflictError | None = None
    guard: str | None = None


Write = Put | Update | Delete


def marking(write: Write, event_id: str) -> Write | None:
    """`write` applying `event_id` (see the module's docstring), or None when it cannot carry the mark: a
    delete, or a put that could replace an item (and with it the marks the item holds)."""
    match write:
        case Update():
            return replace(write, applies=event_id)
        case Put(condition=ItemAbsent()):
            return replace(write, applies=event_id)
    return None


def checked(write: Write) -> Condition | None:
    """What a table checks for `write`: its condition, and that the event it applies is not marked yet."""
    applies = write.applies if isinstance(write, Put | Update) else None
    if applies is None:
        return write.condition
    unmarked = lacks(APPLIED_EVENTS, applies)
    return unmarked if write.condition is None else write.condition & unmarked


def _applied_already(write: Write, item: Item | None) -> bool:
    return (
        isinstance(write, Put | Update)
        and write.applies is not None
        and not holds(lacks(APPLIED_EVENTS, write.applies), item)
    )


def transition(
    key: Key,
    *,
    attribute: str = "status",
    from_: str,
    to: str,
    conflict: ConflictError,
    also: Mapping[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    guard: str | None = None,
) -> Update:
    """Move `attribute` from `from_` to `to` only if it is still `from_` (the one state-machine write),
    setting `also` and removing `remove` with it."""
    return Update(
        key,
        set={attribute: to, **(also or {})},
        remove=remove,
        condition=equals(attribute, from_),
        conflict=conflict,
        guard=guard,
    )


class WriteConflict(ShopError):
    """A condition failed on a write that names no error of its own."""

    def __init__(self, failed: Sequence[Write]) -> None:
        super().__init__(f"{len(failed)} guarded write(s) found their item changed")
        self.failed = list(failed)


def conflict_of(
    writes: Sequence[Write], failed: Sequence[int], items: Sequence[Item | None] | None = None
) -> ShopError:
    """The error for a commit whose writes at `failed` positions broke their conditions: `DuplicateEvent`
    when a failed write's item (`items`, as they were, by position) holds the event it applies; else the
    first failed write's own error (so a step stages its most telling guard first), else a `WriteConflict`."""
    if items is not None and any(_applied_already(writes[index], items[index]) for index in failed):
        return DuplicateEvent("event already applied")
    for index in sorted(failed):
        if (make := writes[index].conflict) is not None:
            return make()
    return WriteConflict([writes[index] for index in failed])


# -- the port and its DynamoDB adapter -----------------------------------------------------------

MAX_BATCH_GET = 100  # BatchGetItem's limit


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


@dataclass(frozen=True)
class DynamoTable:
    """The production `Table`: one conditional call for a single write, one transaction for several."""

    dynamodb: DynamoDBServiceResource
    name: str

    @cached_property
    def _table(self) -> Any:
        # Made once: boto3 builds a resource's class anew on every `Table(...)`, a few milliseconds of CPU.
        return self.dynamodb.Table(self.name)

    def get(self, key: Key) -> Item | None:
        """The item, read consistently; None when absent."""
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def write(self, writes: Sequence[Write]) -> None:
        """Apply every write or none (see `Table.write`)."""
        if not writes:
            return
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a step may write at most {MAX_TRANSACTION_ITEMS} items, got {len(writes)}")
        client = self.dynamodb.meta.client
        if len(writes) == 1:
            # A single write needs no transaction, which costs twice the capacity.
            action, request = _request(writes[0], self.name)
            try:
                getattr(client, _SINGLE[action])(**request)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    raise conflict_of(writes, [0], [_old_item(exc.response.get("Item"))]) from exc
                raise
            return
        try:
            client.transact_write_items(
                TransactItems=[{action: request} for action, request in (_request(w, self.name) for w in writes)]  # type: ignore[misc]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            failed = [i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
            if failed:
                olds = [_old_item(reason.get("Item")) for reason in reasons] if len(reasons) == len(writes) else None
                raise conflict_of(writes, failed, olds) from exc
            codes = sorted({str(reason.get("Code")) for reason in reasons} - {"None"})
            raise WriteContention(f"transaction on {self.name} cancelled: {', '.join(codes) or 'unknown'}") from exc

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Items of a sparse index in one partition whose sort key is below a value, lowest first."""
        response = self._table.query(
            IndexName=index,
            KeyConditionExpression="#p = :p AND #s < :s",
            ExpressionAttributeNames={"#p": partition[0], "#s": below[0]},
            ExpressionAttributeValues={":p": partition[1], ":s": below[1]},
            Limit=limit,
        )
        return [plain(item) for item in response.get("Items", [])]

    def remove(self, keys: Sequence[Key]) -> None:
        """Delete the items in batches of 25, re-sending what DynamoDB left unprocessed (see `Table.remove`)."""
        client = self.dynamodb.meta.client
        for start in range(0, len(keys), MAX_BATCH_WRITE):
            pending: list[Any] = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + MAX_BATCH_WRITE]]
            for attempt in range(REMOVE_ATTEMPTS):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # unprocessed items mean throttling: back off
                answer = client.batch_write_item(RequestItems={self.name: pending})
                pending = list((answer.get("UnprocessedItems") or {}).get(self.name, []))
                if not pending:
                    break
            else:
                raise WriteContention(f"{len(pending)} deletes on {self.name} still unprocessed after retries")


_SINGLE = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}
_DESERIALIZER = TypeDeserializer()


def read_together(reads: Sequence[tuple[Table, Key]]) -> list[Item | None]:
    """Several items, of one table or several, each read consistently, in as few calls as the stores allow:
    one BatchGetItem for DynamoDB tables of one connection, a `get` each otherwise. In the order asked.

    For a read path (a GET shows an order beside its saga view; an order's lines are priced): each call a
    client's request saves is a request to DynamoDB saved, at each poll of every client.
    """
    tables = [_read_through(table) for table, _ in reads]
    batchable = [table for table in tables if isinstance(table, DynamoTable)]
    if len(reads) < 2 or len(batchable) < len(tables) or len({id(t.dynamodb) for t in batchable}) != 1:
        return [table.get(key) for table, key in reads]
    client = batchable[0].dynamodb.meta.client
    found: dict[tuple[str, tuple[tuple[str, Any], ...]], Item] = {}
    wanted = [(table.name, key) for table, key in reads]
    for start in range(0, len(wanted), MAX_BATCH_GET):
        pending: dict[str, Any] = {}
        for name, key in wanted[start : start + MAX_BATCH_GET]:
            pending.setdefault(name, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        for attempt in range(REMOVE_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)  # unprocessed keys mean throttling: back off
            answer = client.batch_get_item(RequestItems=pending)
            for name, items in answer.get("Responses", {}).items():
                for item in items:
                    found[(name, _key_of_item(item, wanted))] = plain(item)
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise WriteContention(f"reads of {sorted(pending)} still unprocessed after retries")
    return [found.get((name, tuple(sorted(key.items())))) for name, key in wanted]


def _read_through(table: Table) -> Table:
    # A wrapper of a table (a test seam) that lets reads through says so with `read_through()`, which may
    # refuse first, as the wrapper's own `get` would.
    while (through := getattr(table, "read_through", None)) is not None:
        table = through()
    return table


def _key_of_item(item: Item, wanted: Sequence[tuple[str, Key]]) -> tuple[tuple[str, Any], ...]:
    # The key attributes are those the request named (every table here is keyed by `pk` alone).
    names = {attribute for _, key in wanted for attribute in key}
    return tuple(sorted((name, item[name]) for name in names if name in item))


def _old_item(raw: Any) -> Item | None:
    """The item a refused write found (`ReturnValuesOnConditionCheckFailure`), which error responses
    carry in DynamoDB's typed form (`{"S": ...}`): only asked for by writes that apply an event."""
    if not raw:
        return None
    return {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}


class _Placeholders:
    """Allocates `#n0`/`:v0` placeholders, so attribute names never clash with reserved words."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder


def _expression(condition: Condition, p: _Placeholders) -> str:
    match condition:
        case ItemAbsent():
            return f"attribute_not_exists({p.name('pk')})"
        case ItemExists():
            return f"attribute_exists({p.name('pk')})"
        case AttributeMissing(attribute):
            return f"attribute_not_exists({p.name(attribute)})"
        case Lacks(attribute, member):
            return f"NOT contains({p.name(attribute)}, {p.value(member)})"
        case Compare(attribute, op, value):
            return f"{p.name(attribute)} {op} {p.value(value)}"
        case AllOf(parts):
            return "(" + " AND ".join(_expression(part, p) for part in parts) + ")"
        case AnyOf(parts):
            return "(" + " OR ".join(_expression(part, p) for part in parts) + ")"
    raise TypeError(f"unknown condition {condition!r}")


def _request(write: Write, table_name: str) -> tuple[str, dict[str, Any]]:
    """The DynamoDB action name and request body of one write."""
    p = _Placeholders()
    body: dict[str, Any] = {"TableName": table_name}
    match write:
        case Put(item=item, applies=applies):
            action = "Put"
            body["Item"] = item if applies is None else {**item, APPLIED_EVENTS: {applies}}
        case Update(key=key, set=to_set, add=to_add, remove=to_remove, applies=applies):
            action = "Update"
            body["Key"] = key
            clauses = [f"{p.name(a)} = {p.value(v)}" for a, v in to_set.items()]
            expression = f"SET {', '.join(clauses)}" if clauses else ""
            adds: dict[str, Any] = {**to_add, **({APPLIED_EVENTS: frozenset({applies})} if applies is not None else {})}
            if adds:
                # ADD treats a missing number as 0 and a missing set as empty, as the in-memory table does.
                expression += " ADD " + ", ".join(f"{p.name(a)} {p.value(v)}" for a, v in adds.items())
            if to_remove:
                expression += f" REMOVE {', '.join(p.name(a) for a in to_remove)}"
            body["UpdateExpression"] = expression.strip()
        case Delete(key=key):
            action = "Delete"
            body["Key"] = key
    if (condition := checked(write)) is not None:
        body["ConditionExpression"] = _expression(condition, p)
    if isinstance(write, Put | Update) and write.applies is not None:
        # A refused write then says whether its item holds the mark already (a duplicate) or not.
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if p.names:
        body["ExpressionAttributeNames"] = p.names
    if p.values:
        body["ExpressionAttributeValues"] = p.values
    return action, body

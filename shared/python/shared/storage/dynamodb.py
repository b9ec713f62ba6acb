"""The storage port's DynamoDB adapter: `DynamoTable`, and reads of several items in one call
(`read_together`, and `ReadAhead` for a consumer's batch).

One conditional call for a single write, one `TransactWriteItems` for more; conditions rendered as
condition expressions with placeholders; a refused write's error chosen by `conflict_of`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.errors import WriteContention
from shared.storage.attribute_values import typed_item, untyped_item
from shared.storage.conditions import (
    AllOf,
    AnyOf,
    AttributeMissing,
    Compare,
    Condition,
    Invariant,
    Item,
    ItemAbsent,
    ItemExists,
    Lacks,
)
from shared.storage.writes import (
    MAX_BATCH_WRITE,
    MAX_TRANSACTION_ITEMS,
    Delete,
    Key,
    Put,
    Table,
    Update,
    Write,
    conflict_of,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REMOVE_ATTEMPTS = 5
MAX_BATCH_GET = 100  # BatchGetItem's limit


@dataclass(frozen=True)
class DynamoTable:
    """The production `Table`: one conditional call for a single write, one transaction for several."""

    client: DynamoDBClient
    name: str

    def get(self, key: Key) -> Item | None:
        """The item, read consistently; None when absent."""
        item = self.client.get_item(TableName=self.name, Key=typed_item(key), ConsistentRead=True).get("Item")
        return untyped_item(item) if item else None

    def write(self, writes: Sequence[Write]) -> None:
        """Apply every write or none (see `Table.write`)."""
        if not writes:
            return
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a step may write at most {MAX_TRANSACTION_ITEMS} items, got {len(writes)}")
        client = self.client
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
        response = self.client.query(
            TableName=self.name,
            IndexName=index,
            KeyConditionExpression="#p = :p AND #s < :s",
            ExpressionAttributeNames={"#p": partition[0], "#s": below[0]},
            ExpressionAttributeValues=typed_item({":p": partition[1], ":s": below[1]}),
            Limit=limit,
        )
        return [untyped_item(item) for item in response.get("Items", [])]

    def remove(self, keys: Sequence[Key]) -> None:
        """Delete the items in batches of 25, re-sending what DynamoDB left unprocessed (see `Table.remove`)."""
        for start in range(0, len(keys), MAX_BATCH_WRITE):
            pending: list[Any] = [
                {"DeleteRequest": {"Key": typed_item(key)}} for key in keys[start : start + MAX_BATCH_WRITE]
            ]
            for attempt in range(REMOVE_ATTEMPTS):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # unprocessed items mean throttling: back off
                answer = self.client.batch_write_item(RequestItems={self.name: pending})
                pending = list((answer.get("UnprocessedItems") or {}).get(self.name, []))
                if not pending:
                    break
            else:
                raise WriteContention(f"{len(pending)} deletes on {self.name} still unprocessed after retries")


_SINGLE = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}


def read_together(reads: Sequence[tuple[Table, Key]]) -> list[Item | None]:
    """Several items, of one table or several, each read consistently, in as few calls as the stores allow:
    one BatchGetItem for DynamoDB tables of one connection, a `get` each otherwise. In the order asked.

    For a read path (a GET shows an order beside its saga view; an order's lines are priced): each call a
    client's request saves is a request to DynamoDB saved, at each poll of every client.
    """
    tables = [_read_through(table) for table, _ in reads]
    batchable = [table for table in tables if isinstance(table, DynamoTable)]
    if len(reads) < 2 or len(batchable) < len(tables) or len({id(t.client) for t in batchable}) != 1:
        return [table.get(key) for table, key in reads]
    client = batchable[0].client
    found: dict[tuple[str, tuple[tuple[str, Any], ...]], Item] = {}
    wanted = [(table.name, key) for table, key in reads]
    for start in range(0, len(wanted), MAX_BATCH_GET):
        pending: dict[str, Any] = {}
        for name, key in wanted[start : start + MAX_BATCH_GET]:
            pending.setdefault(name, {"Keys": [], "ConsistentRead": True})["Keys"].append(typed_item(key))
        for attempt in range(REMOVE_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)  # unprocessed keys mean throttling: back off
            answer = client.batch_get_item(RequestItems=pending)
            for name, items in answer.get("Responses", {}).items():
                for raw in items:
                    item = untyped_item(raw)
                    found[(name, _key_of_item(item, wanted))] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise WriteContention(f"reads of {sorted(pending)} still unprocessed after retries")
    return [found.get((name, _frozen(key))) for name, key in wanted]


_NOT_AHEAD = object()


class ReadAhead:
    """A table whose reads of a batch's items can be made together, ahead of the reactions that need them.

    A consumer's reactions each read one item (the service's record of an order) before they write it: a
    batch of n records costs n `GetItem`s. `read_ahead(keys)` reads them in one `BatchGetItem` instead, and
    each key's next `get` is answered from it, once: a second `get` of the key (a retry after a conflict,
    a second event of the order in the batch) reads the table, and so does a `get` after this wrapper
    wrote the key. An item read ahead is as fresh as one read a moment before its reaction began: every
    write a reaction makes after a read is conditional on what it read, so a change in between is refused
    as it would be without the read ahead. Everything else goes to the wrapped table.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._ahead: dict[tuple[tuple[str, Any], ...], Item | None] = {}

    @property
    def name(self) -> str:
        """The wrapped table's name."""
        return self.table.name

    def read_ahead(self, keys: Sequence[Key]) -> None:
        """Read these items together for their next `get`s, forgetting what an earlier batch read ahead.

        Raises what the reads raise; nothing is then kept, and each `get` reads the table.
        """
        self._ahead = {}
        unique = list({_frozen(key): key for key in keys}.values())
        if len(unique) < 2:
            return  # one item is one read, now or at its reaction: nothing to gain
        found = read_together([(self.table, key) for key in unique])
        self._ahead = {_frozen(key): item for key, item in zip(unique, found, strict=True)}

    def forget(self) -> None:
        """Drop what was read ahead and not used (at the end of a batch)."""
        self._ahead = {}

    def get(self, key: Key) -> Item | None:
        """The item as read ahead, the first time it is asked for; else from the table."""
        found = self._ahead.pop(_frozen(key), _NOT_AHEAD)
        return self.table.get(key) if found is _NOT_AHEAD else found  # type: ignore[return-value]

    def read_through(self) -> Table:
        """The table reads go to (`read_together`)."""
        return self.table

    def write(self, writes: Sequence[Write]) -> None:
        """Write through; an item written is read from the table from then on."""
        for write in writes:
            self._ahead.pop(_frozen(write.key), None)
        self.table.write(writes)

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Query through."""
        return self.table.query(index, partition, below=below, limit=limit)

    def remove(self, keys: Sequence[Key]) -> None:
        """Remove through; an item removed is read from the table from then on."""
        for key in keys:
            self._ahead.pop(_frozen(key), None)
        self.table.remove(keys)


def _frozen(key: Key) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(key.items()))


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
    carry in DynamoDB's typed form (`{"S": ...}`): only asked for by writes with an `explain`."""
    if not raw:
        return None
    return untyped_item(raw)


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
        case Invariant(_, inner):
            return _expression(inner, p)
    raise TypeError(f"unknown condition {condition!r}")


def _request(write: Write, table_name: str) -> tuple[str, dict[str, Any]]:
    """The DynamoDB action name and request body of one write."""
    p = _Placeholders()
    body: dict[str, Any] = {"TableName": table_name}
    match write:
        case Put(item=item):
            action = "Put"
            body["Item"] = typed_item(item)
        case Update(key=key, set=to_set, add=to_add, remove=to_remove):
            action = "Update"
            body["Key"] = typed_item(key)
            clauses = [f"{p.name(a)} = {p.value(v)}" for a, v in to_set.items()]
            expression = f"SET {', '.join(clauses)}" if clauses else ""
            if to_add:
                # ADD treats a missing number as 0 and a missing set as empty, as the in-memory table does.
                expression += " ADD " + ", ".join(f"{p.name(a)} {p.value(v)}" for a, v in to_add.items())
            if to_remove:
                expression += f" REMOVE {', '.join(p.name(a) for a in to_remove)}"
            body["UpdateExpression"] = expression.strip()
        case Delete(key=key):
            action = "Delete"
            body["Key"] = typed_item(key)
    if write.condition is not None:
        body["ConditionExpression"] = _expression(write.condition, p)
    if write.explain is not None:
        # A refused write then brings the item it found, for its `explain` (no read of its own).
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if p.names:
        body["ExpressionAttributeNames"] = p.names
    if p.values:
        body["ExpressionAttributeValues"] = typed_item(p.values)
    return action, body

"""An in-memory `Table` with DynamoDB's semantics, for logic tests and the simulator.

It evaluates the same `Condition`s the DynamoDB adapter renders, applies a commit all-or-nothing, and
raises the same typed errors, so a logic test exercises every guard exactly as production does.
`tests/component/shared/test_storage.py` runs one suite against this and against DynamoDB (moto)
to keep the two in step.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.storage import Delete, Item, Key, Put, Update, Write, conflict_of, holds
from tools.template import resource


@dataclass
class InMemoryTable:
    """A table in a dict: `items` by partition key, and sparse indexes by name."""

    name: str = "memory"
    items: dict[str, Item] = field(default_factory=dict)
    # index name -> (partition key attribute, sort key attribute)
    indexes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # key attribute -> its DynamoDB type ("S", "N"): an item with another type there is refused
    key_types: dict[str, str] = field(default_factory=dict)
    commits: int = 0

    @classmethod
    def like(cls, logical_id: str) -> InMemoryTable:
        """A table shaped as template.yaml declares `logical_id`: its indexes and key attribute types."""
        properties = resource(logical_id)["Properties"]
        indexes = {
            index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
            for index in properties.get("GlobalSecondaryIndexes", [])
        }
        types = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
        return cls(name=logical_id, indexes=indexes, key_types=types)  # type: ignore[arg-type]

    def get(self, key: Key) -> Item | None:
        """A copy of the item, or None."""
        item = self.items.get(key["pk"])
        return copy.deepcopy(item) if item is not None else None

    def write(self, writes: Sequence[Write]) -> None:
        """Apply every write or none; a failed condition raises the write's own error."""
        if not writes:
            return
        keys = [_key_of(write)["pk"] for write in writes]
        if len(set(keys)) != len(keys):
            raise ValueError("DynamoDB refuses two writes on one item in a transaction")
        failed = [i for i, write in enumerate(writes) if not holds(write.condition, self.items.get(keys[i]))]
        if failed:
            raise conflict_of(writes, failed, [self.items.get(key) for key in keys])
        staged = {key: copy.deepcopy(self.items.get(key)) for key in keys}
        for write in writes:
            self._apply(write)
        for key in keys:
            if (item := self.items.get(key)) is not None and (wrong := self._mistyped(item)):
                for restore_key, old in staged.items():  # all or nothing, as DynamoDB
                    if old is None:
                        self.items.pop(restore_key, None)
                    else:
                        self.items[restore_key] = old
                raise ValueError(f"DynamoDB refuses {key}: key attribute {wrong} has the wrong type")
        self.commits += 1

    def _mistyped(self, item: Item) -> str | None:
        for attribute, kind in self.key_types.items():
            value = item.get(attribute)
            if value is not None and (kind == "S") != isinstance(value, str):
                return attribute
        return None

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Items of a sparse index in one partition whose sort key is below a value, lowest first."""
        partition_key, sort_key = self.indexes[index]
        assert (partition[0], below[0]) == (partition_key, sort_key), "query by the index's own keys"
        found = [
            item
            for item in self.items.values()
            if item.get(partition_key) == partition[1] and sort_key in item and item[sort_key] < below[1]
        ]
        return [copy.deepcopy(item) for item in sorted(found, key=lambda item: item[sort_key])[:limit]]

    def remove(self, keys: Sequence[Key]) -> None:
        """Delete each item (not one commit: each removal stands alone, as BatchWriteItem's)."""
        for key in keys:
            self.items.pop(key["pk"], None)

    def keys(self, prefix: str = "") -> list[str]:
        """The partition keys that start with `prefix`, sorted (for assertions)."""
        return sorted(pk for pk in self.items if pk.startswith(prefix))

    def _apply(self, write: Write) -> None:
        match write:
            case Put(item=item):
                self.items[item["pk"]] = _stored(item)
            case Update(key=key, set=to_set, add=to_add, remove=to_remove):
                item = self.items.setdefault(key["pk"], dict(key))
                item.update(_stored(dict(to_set)))
                for attribute, delta in to_add.items():
                    if isinstance(delta, frozenset):
                        item[attribute] = {*item.get(attribute, ()), *delta}
                    else:
                        item[attribute] = item.get(attribute, 0) + delta
                for attribute in to_remove:
                    item.pop(attribute, None)
            case Delete(key=key):
                self.items.pop(key["pk"], None)


def _key_of(write: Write) -> Key:
    return write.key


def _stored(value: Any) -> Any:
    """A deep copy of `value` as DynamoDB would keep it: floats are refused, as DynamoDB refuses them."""
    if isinstance(value, float):
        raise TypeError("DynamoDB does not accept floats; store money as a string")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    if isinstance(value, set | frozenset):
        return set(value)
    return value

"""What must hold of an item for a write to apply: conditions, and the invariants they enforce.

A condition is data (combine with `&` and `|`): the DynamoDB adapter renders it as a condition
expression and the in-memory table of the tests evaluates it with `holds`, with DynamoDB's semantics, so
every guard is written once. A condition that enforces one of the saga's invariants (one charge per
order, an event applied once, ...) says which with `invariant(name, condition)`: production never looks
at the name; a test stack's seam removes the named ones (`without`), which is how the negative controls
prove that the checkers catch a missing guard.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Item = dict[str, Any]


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


@dataclass(frozen=True)
class Invariant(Condition):
    """`condition`, which enforces the invariant called `name` (it holds exactly when `condition` does)."""

    name: str
    condition: Condition


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


def invariant(name: str, condition: Condition) -> Condition:
    """`condition`, named as what enforces the invariant `name` (see the module's docstring)."""
    return Invariant(name, condition)


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
        case Invariant(_, inner):
            return holds(inner, item)
    raise TypeError(f"unknown condition {condition!r}")


def without(condition: Condition | None, removed: Callable[[str], bool]) -> Condition | None:
    """`condition` with the invariants `removed` answers True for taken out (None: nothing left to check)."""
    match condition:
        case Invariant(name, inner):
            return None if removed(name) else Invariant(name, inner)
        case AllOf(parts):
            kept = [part for part in (without(part, removed) for part in parts) if part is not None]
            return None if not kept else kept[0] if len(kept) == 1 else AllOf(tuple(kept))
        case AnyOf(parts):
            either = [without(part, removed) for part in parts]
            # A part with nothing left to check always holds, and so does the whole.
            return None if any(part is None for part in either) else AnyOf(tuple(p for p in either if p is not None))
    return condition


def creates_only(condition: Condition | None) -> bool:
    """Whether a put under `condition` can only create its item, never replace one."""
    match condition:
        case ItemAbsent():
            return True
        case Invariant(_, inner):
            return creates_only(inner)
        case AllOf(parts):
            return any(creates_only(part) for part in parts)
    return False

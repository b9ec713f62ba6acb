"""A table without its once-only guards, for the negative controls: they must then find double effects.

Every condition a write names as enforcing an invariant (`storage.invariant`: the inbox mark, one charge
per order, one reservation per order, one refund per charge, ...) is taken out of it, for the invariants
chosen; the rest of the condition, and every other write, is left as it is. An inbox mark is still
written with the inbox invariant off, unchecked, as an inbox record would be.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.storage import Item, Key, Table, Write, without


@dataclass(frozen=True)
class UnguardedTable:
    """Wraps a table and drops the conditions that enforce invariants (all of them, or those named)."""

    inner: Table
    disabled: frozenset[str] | None = None  # None: every invariant

    @property
    def name(self) -> str:
        """The wrapped table's name."""
        return self.inner.name

    def get(self, key: Key) -> Item | None:
        """Read through."""
        return self.inner.get(key)

    def read_through(self) -> Table:
        """The table reads go to (storage.read_together)."""
        return self.inner

    def write(self, writes: Sequence[Write]) -> None:
        """Write with the chosen invariants' conditions removed."""
        self.inner.write([self._unguarded(write) for write in writes])

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Query through."""
        return self.inner.query(index, partition, below=below, limit=limit)

    def remove(self, keys: Sequence[Key]) -> None:
        """Remove through (removals carry no guard)."""
        self.inner.remove(keys)

    def _unguarded(self, write: Write) -> Write:
        condition = without(write.condition, self._off)
        return write if condition == write.condition else dataclasses.replace(write, condition=condition)

    def _off(self, name: str) -> bool:
        return self.disabled is None or name in self.disabled

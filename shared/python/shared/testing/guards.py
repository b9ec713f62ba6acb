"""A table without its once-only guards, for the negative controls: they must then find double effects.

Every write that names a `guard` (the inbox mark, one charge per order, one reservation per order, one
refund per charge, ...) is applied without its condition; an inbox mark carried by a business item
(`applies`) is written unchecked with the inbox guard off; every other write is left as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.outbox import INBOX_GUARD
from shared.storage import APPLIED_EVENTS, Item, Key, Put, Table, Update, Write


@dataclass(frozen=True)
class UnguardedTable:
    """Wraps a table and drops the conditions of guarded writes (all of them, or those named)."""

    inner: Table
    disabled: frozenset[str] | None = None  # None: every guard

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
        """Write with the chosen guards' conditions removed."""
        self.inner.write([self._unguarded(write) for write in writes])

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Query through."""
        return self.inner.query(index, partition, below=below, limit=limit)

    def remove(self, keys: Sequence[Key]) -> None:
        """Remove through (removals carry no guard)."""
        self.inner.remove(keys)

    def _unguarded(self, write: Write) -> Write:
        if isinstance(write, Update) and write.applies is not None and self._off(INBOX_GUARD):
            # The inbox mark carried by a business item: written, as an inbox record would be, but unchecked.
            write = dataclasses.replace(
                write, applies=None, add={**write.add, APPLIED_EVENTS: frozenset({write.applies})}
            )
        elif isinstance(write, Put) and write.applies is not None and self._off(INBOX_GUARD):
            write = dataclasses.replace(write, applies=None, item={**write.item, APPLIED_EVENTS: {write.applies}})
        if write.guard is None or not self._off(write.guard):
            return write
        return dataclasses.replace(write, condition=None)

    def _off(self, guard: str) -> bool:
        return self.disabled is None or guard in self.disabled

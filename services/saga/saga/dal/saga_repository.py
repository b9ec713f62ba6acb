"""The saga table: one item per saga holding the events seen and the view folded from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import SagaChangedConcurrently
from shared.storage import Item, Put, Table, absent, equals
from shop_contracts.saga import (
    ATTENTION_AT_ATTRIBUTE,
    ATTENTION_ATTRIBUTE,
    ATTENTION_INDEX,
    VIEW_ATTRIBUTE,
    Attention,
    SagaView,
    saga_key,
)


@dataclass(frozen=True)
class SagaRecord:
    """A saga's events by id, and the version that guards the next write."""

    events: dict[str, dict[str, Any]]
    version: int


@dataclass(frozen=True)
class SagaRepository:
    """Reads and writes saga items with optimistic locking on `version`."""

    table: Table

    def get(self, saga_id: str) -> SagaRecord:
        """The saga's record; an empty one at version 0 when nothing was seen yet."""
        item = self.table.get(saga_key(saga_id))
        if not item:
            return SagaRecord(events={}, version=0)
        return SagaRecord(events=item.get("events", {}), version=int(item["version"]))

    def save(
        self,
        saga_id: str,
        record: SagaRecord,
        view: SagaView,
        *,
        expected_version: int,
        attention: tuple[Attention, str] | None = None,
    ) -> None:
        """Write the new record and view if nobody wrote since `expected_version`; `attention` puts the
        saga in the index of sagas needing attention (None takes it out).

        Raises
        ------
        SagaChangedConcurrently
            When the version moved on; read again and re-fold.
        """
        item: dict[str, Any] = {
            **saga_key(saga_id),
            "events": record.events,
            "version": record.version,
            VIEW_ATTRIBUTE: view.to_wire(),
        }
        # The sparse index of sagas needing attention: a whole-item write drops the attributes once settled.
        if attention is not None:
            item[ATTENTION_ATTRIBUTE], item[ATTENTION_AT_ATTRIBUTE] = attention
        condition = absent() if expected_version == 0 else equals("version", expected_version)
        self.table.write([Put(item, condition=condition, conflict=lambda: SagaChangedConcurrently(saga_id))])


# The most index entries one watch reads per state: beyond it, the gauge says "at least this many".
WATCH_LIMIT = 1000


@dataclass(frozen=True)
class AttentionIndex:
    """The sparse index of sagas that need attention (ByAttention), as the watch reads it."""

    table: Table

    def waiting_since_before(self, state: Attention, cutoff: str) -> list[Item]:
        """Sagas in `state` whose attention time is before `cutoff` (ISO 8601), stalest first."""
        return self.table.query(
            ATTENTION_INDEX, (ATTENTION_ATTRIBUTE, state), below=(ATTENTION_AT_ATTRIBUTE, cutoff), limit=WATCH_LIMIT
        )

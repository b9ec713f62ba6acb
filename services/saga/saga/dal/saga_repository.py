"""The saga table: one item per saga holding the view folded from the events seen, and the version.

The view's timeline already names every event seen (type, id, time), so the item keeps beside it only
what the timeline leaves out of an event (its reason, step or deadline), by event id, rather than a
second copy of every event: a happy saga's item stays under 1 kB, one write unit a put instead of two
(items written before this kept their events in `events`, which is still read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from saga.models.seen_event import SeenEvent
from shared.errors import SagaChangedConcurrently
from shared.storage import Item, Put, Table, absent, equals, forget_read_ahead, read_ahead
from shop_contracts.envelope import Envelope
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

    events: dict[str, SeenEvent]
    version: int


# What an event is in the view's timeline; the rest of a seen event is kept in the item's `details`.
_TIMELINE_FIELDS = ("type", "eventId", "occurredAt")
DETAILS_ATTRIBUTE = "details"
LEGACY_EVENTS_ATTRIBUTE = "events"


def _events_of(item: Item) -> dict[str, SeenEvent]:
    """The events seen, from the view's timeline and the details kept beside it (written by this module
    from `SeenEvent`s, so read back as them)."""
    if LEGACY_EVENTS_ATTRIBUTE in item:
        return cast(dict[str, SeenEvent], dict(item[LEGACY_EVENTS_ATTRIBUTE]))
    details = item.get(DETAILS_ATTRIBUTE, {})
    return {
        entry["eventId"]: cast(
            SeenEvent, {**{name: entry[name] for name in _TIMELINE_FIELDS}, **details.get(entry["eventId"], {})}
        )
        for entry in item.get(VIEW_ATTRIBUTE, {}).get("timeline", [])
    }


def _details_of(events: dict[str, SeenEvent]) -> dict[str, dict[str, Any]]:
    """What the timeline does not hold of each event, for the events that have any."""
    details = {
        event_id: {name: value for name, value in event.items() if name not in _TIMELINE_FIELDS}
        for event_id, event in events.items()
    }
    return {event_id: extra for event_id, extra in details.items() if extra}


@dataclass(frozen=True)
class SagaRepository:
    """Reads and writes saga items with optimistic locking on `version`."""

    table: Table

    def get(self, saga_id: str) -> SagaRecord:
        """The saga's record; an empty one at version 0 when nothing was seen yet."""
        item = self.table.get(saga_key(saga_id))
        if not item:
            return SagaRecord(events={}, version=0)
        return SagaRecord(events=_events_of(item), version=int(item["version"]))

    def read_ahead(self, causes: Sequence[Envelope[Any]]) -> None:
        """Read the sagas of these events together (one read for a batch), for their next `get`s."""
        read_ahead(self.table, [saga_key(cause.metadata.correlation_id) for cause in causes])

    def forget_read_ahead(self) -> None:
        """Drop what `read_ahead` read and nothing used."""
        forget_read_ahead(self.table)

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
        wire = view.to_wire()
        if {entry["eventId"] for entry in wire["timeline"]} != set(record.events):
            raise ValueError(f"the view of saga {saga_id} is not the fold of the events recorded with it")
        item: dict[str, Any] = {**saga_key(saga_id), "version": record.version, VIEW_ATTRIBUTE: wire}
        if details := _details_of(record.events):
            item[DETAILS_ATTRIBUTE] = details
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

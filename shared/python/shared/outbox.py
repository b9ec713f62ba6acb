"""The inbox and outbox records every service keeps in its own table.

The outbox record of an event is what the relay publishes: the serialised contract, never a dump of the
state it came with. The inbox mark of an event makes a consumer apply it once: it is written in the
same commit as the effect, on the condition that it does not exist yet.

The mark is carried by the business item the event is about (its subject: the order's record in each
service) when the step writes that item, and is a record of its own otherwise. Each write of a step
on its subject is then one conditional write on one item, or a transaction one item shorter: a step
that changes only its subject costs a quarter of the capacity (1 unit instead of a transaction of two
items, 4). It is as safe: every effect of an event on a service writes its subject, so a second
delivery meets the mark on the item it must write.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from shared.errors import DuplicateEvent, ShopError, WriteContention
from shared.observability import current_trace_header
from shared.storage import (
    ExplainConflict,
    Item,
    Key,
    Put,
    Update,
    Write,
    absent,
    creates_only,
    exists,
    invariant,
    lacks,
)
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope

OUTBOX_PREFIX = "OUTBOX#"
# Every outbox row sits in this sparse index until the relay removes it: the sweeper's query.
OUTBOX_INDEX = "outbox-pending"
OUTBOX_PENDING = "PENDING"
INBOX_PREFIX = "INBOX#"
# The invariant an inbox mark's condition enforces: an event is applied once.
INBOX_INVARIANT = "inbox"
# The ids of the events applied to a business item, where the write that applied them carried the mark.
APPLIED_EVENTS = "appliedEvents"
# Inbox marks only need to outlive redelivery and replays; TTL removes them on AWS.
INBOX_RETENTION_SECONDS = 7 * 24 * 60 * 60


def outbox_item(envelope: Envelope[DomainEvent]) -> dict[str, Any]:
    """The outbox record of one event: what the relay needs to publish it, and nothing of the state.

    It has no expiry: the relay removes it once PutEvents accepted it, and not before.
    """
    item: dict[str, Any] = {
        "pk": f"{OUTBOX_PREFIX}{envelope.metadata.event_id}",
        "source": envelope.data.source(),
        "detailType": envelope.data.detail_type(),
        "detail": envelope.model_dump_json(by_alias=True),
        "outboxState": OUTBOX_PENDING,
        "outboxAt": int(time.time()),
    }
    # The trace of the work that caused the event: the relay hands it to PutEvents, so X-Ray follows the
    # order from this step across the bus to its consumers, though another invocation publishes it.
    if (trace := current_trace_header()) is not None:
        item["traceHeader"] = trace
    return item


def outbox_put(envelope: Envelope[DomainEvent]) -> Put:
    """Stage the outbox record of `envelope` (an event id is published once per commit)."""
    return Put(outbox_item(envelope), condition=absent())


def inbox_put(cause: Envelope[Any]) -> Put:
    """Stage the mark that `cause` was applied; a second delivery then fails the whole commit."""
    item = {
        "pk": f"{INBOX_PREFIX}{cause.metadata.event_id}",
        "detailType": cause.data.detail_type(),
        "expiresAt": int(time.time()) + INBOX_RETENTION_SECONDS,
    }
    return Put(
        item, condition=invariant(INBOX_INVARIANT, absent()), conflict=lambda: DuplicateEvent("event already applied")
    )


def _duplicate_if_marked(event_id: str) -> ExplainConflict:
    """What a refused write that carried the mark of `event_id` means: a duplicate if its item holds it."""

    def explain(found: Item | None) -> ShopError | None:
        if found is not None and event_id in (found.get(APPLIED_EVENTS) or ()):
            return DuplicateEvent("event already applied")
        return None

    return explain


def marking(write: Write, event_id: str) -> Write | None:
    """`write` also marking `event_id` applied on its item, on the condition that it is not marked there
    yet; None when the write cannot carry the mark: a delete, or a put that could replace an item (and
    with it the marks the item holds)."""
    unmarked = invariant(INBOX_INVARIANT, lacks(APPLIED_EVENTS, event_id))
    explain = _duplicate_if_marked(event_id)
    match write:
        case Update(condition=condition):
            marks = {**write.add, APPLIED_EVENTS: frozenset({event_id})}
            both = unmarked if condition is None else condition & unmarked
            return replace(write, add=marks, condition=both, explain=explain)
        case Put(condition=condition) if creates_only(condition):
            assert condition is not None  # a put that only creates has a condition
            item = {**write.item, APPLIED_EVENTS: {event_id}}
            return replace(write, item=item, condition=condition & unmarked, explain=explain)
    return None


def with_inbox_mark(writes: Sequence[Write], cause: Envelope[Any], subject: Key | None) -> list[Write]:
    """A step's writes with the inbox mark of `cause`.

    With a `subject`, the mark is always on the subject: carried by the step's write on it when there is
    one that can carry it (see `marking`), else written there alone, which needs the subject to
    exist (else `WriteContention`: retried, as for an event that came before what it is about). So a
    second delivery meets the mark whatever the first one did. Without a subject the mark is a record of
    its own, staged first (so that, if both fail, a redelivery is told as a duplicate rather than as a
    conflict of the step's own writes)."""
    event_id = cause.metadata.event_id
    if subject is None:
        return [inbox_put(cause), *writes]
    for index, write in enumerate(writes):
        if write.key == subject and (marked := marking(write, event_id)) is not None:
            return [*writes[:index], marked, *writes[index + 1 :]]
    if any(write.key == subject for write in writes):
        # A put that may replace the subject, or its delete: it cannot keep marks, so no step may do that.
        raise ValueError(f"a step reacting to an event may only update {subject['pk']} or create it, not replace it")
    alone = marking(
        Update(
            subject,
            condition=exists(),
            conflict=lambda: WriteContention(f"{subject['pk']} does not exist yet to mark event {event_id} applied on"),
        ),
        event_id,
    )
    assert alone is not None  # an update can always carry the mark
    return [alone, *writes]

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
from typing import Any

from shared.errors import DuplicateEvent, WriteContention
from shared.observability import current_trace_header
from shared.storage import Key, Put, Update, Write, absent, exists, marking
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope

OUTBOX_PREFIX = "OUTBOX#"
# Every outbox row sits in this sparse index until the relay removes it: the sweeper's query.
OUTBOX_INDEX = "outbox-pending"
OUTBOX_PENDING = "PENDING"
INBOX_PREFIX = "INBOX#"
INBOX_GUARD = "inbox"
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
    return Put(item, condition=absent(), conflict=lambda: DuplicateEvent("event already applied"), guard=INBOX_GUARD)


def with_inbox_mark(writes: Sequence[Write], cause: Envelope[Any], subject: Key | None) -> list[Write]:
    """A step's writes with the inbox mark of `cause`.

    With a `subject`, the mark is always on the subject: carried by the step's write on it when there is
    one that can carry it (see `storage.marking`), else written there alone, which needs the subject to
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
    alone = Update(
        subject,
        applies=event_id,
        condition=exists(),
        conflict=lambda: WriteContention(f"{subject['pk']} does not exist yet to mark event {event_id} applied on"),
    )
    return [alone, *writes]

"""The inbox and outbox records every service keeps in its own table.

The outbox record of an event is what the relay publishes: the serialised contract, never a dump of the
state it came with. The inbox mark of an event makes a consumer apply it once: it is written in the
same commit as the effect, on the condition that it does not exist yet.
"""

from __future__ import annotations

import time
from typing import Any

from shared.errors import DuplicateEvent
from shared.observability import current_trace_header
from shared.storage import Put, absent
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

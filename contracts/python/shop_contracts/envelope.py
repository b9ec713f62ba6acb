"""The envelope every saga event travels in: `detail = {"metadata": {...}, "data": {...}}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast
from uuid import uuid4

from pydantic import AwareDatetime, Field

from shop_contracts.base import DomainEvent, WireModel


def new_event_id() -> str:
    """A fresh event id; the same logical event keeps it across retries and re-publishes."""
    return str(uuid4())


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class EventMetadata(WireModel):
    """Who, when and why: the part of every event that is not business data."""

    event_id: str = Field(default_factory=new_event_id, min_length=1)
    event_version: Literal[1] = 1
    correlation_id: str = Field(min_length=1)
    causation_id: str | None = None
    occurred_at: AwareDatetime = Field(default_factory=utc_now)


class Envelope[EventT: DomainEvent](WireModel):
    """A domain event with its metadata, as it appears in an EventBridge event's `detail`."""

    metadata: EventMetadata
    data: EventT


def start_saga[EventT: DomainEvent](data: EventT, *, correlation_id: str) -> Envelope[EventT]:
    """Wrap the first event of a saga: it has no cause."""
    return wrap(data, EventMetadata(correlation_id=correlation_id))


def caused_by[EventT: DomainEvent](data: EventT, cause: EventMetadata) -> Envelope[EventT]:
    """Wrap an event published in reaction to `cause`: same saga, and it names what it reacted to."""
    return wrap(data, EventMetadata(correlation_id=cause.correlation_id, causation_id=cause.event_id))


def wrap[EventT: DomainEvent](data: EventT, metadata: EventMetadata) -> Envelope[EventT]:
    """Wrap `data` with the given metadata."""
    # Parametrise with the concrete class: serialising a field typed as the base class would drop the
    # subclass's fields.
    model: Any = Envelope[type(data)]  # type: ignore[misc]
    return cast(Envelope[EventT], model(metadata=metadata, data=data))

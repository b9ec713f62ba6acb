"""Record saga events in the read model and re-fold the saga's view; emits nothing.

Triggered by every saga event, through the projector's own queue; the events of one saga in a batch are
recorded together, in one write. A duplicate (same event id) changes nothing; concurrent writes to one
saga are serialised by optimistic locking and re-tried here. Each event recorded for the first time is
measured once (shared/metrics.py): orders placed, confirmed, cancelled by reason, compensation failures
by step, and the saga's duration once both its ends are known.
"""

from __future__ import annotations

from datetime import datetime

from saga.dal.saga_repository import SagaRecord, SagaRepository
from saga.logic.fold import attention, saga_view, seen_event
from saga.models.seen_event import SeenEvent
from shared.errors import SagaChangedConcurrently
from shared.metrics import Measures
from shared.observability import logger
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope

ATTEMPTS = 8


def project_event(envelope: Envelope[DomainEvent], *, sagas: SagaRepository, measures: Measures) -> bool:
    """Add the event to its saga's view; returns False when it had been recorded already.

    Raises
    ------
    SagaChangedConcurrently
        When the saga kept changing under us for every attempt; the delivery is retried.
    """
    return bool(project_events([envelope], sagas=sagas, measures=measures))


def project_events(envelopes: list[Envelope[DomainEvent]], *, sagas: SagaRepository, measures: Measures) -> int:
    """Add events of one saga to its view in one read and one write; returns how many were new.

    A batch often holds several events of one saga (always, when the projector runs behind): one
    write for them all keeps the projector's cost per saga, not per event, and the view the same, as
    it is a function of the set of events.

    Raises
    ------
    ValueError
        When the events belong to different sagas.
    SagaChangedConcurrently
        When the saga kept changing under us for every attempt; the deliveries are retried.
    """
    saga_ids = {envelope.metadata.correlation_id for envelope in envelopes}
    if len(saga_ids) != 1:
        raise ValueError(f"project_events takes the events of one saga, got {sorted(saga_ids)}")
    saga_id = saga_ids.pop()
    for _ in range(ATTEMPTS):
        record = sagas.get(saga_id)
        new = {
            envelope.metadata.event_id: seen_event(envelope)
            for envelope in envelopes
            if envelope.metadata.event_id not in record.events
        }
        if not new:
            logger.info("events already projected", events=len(envelopes))
            return 0
        events = {**record.events, **new}
        view = saga_view(list(events.values()))
        try:
            sagas.save(
                saga_id,
                SagaRecord(events=events, version=record.version + 1),
                view,
                expected_version=record.version,
                attention=attention(view),
            )
        except SagaChangedConcurrently:
            continue
        logger.info("saga projected", status=view.status, events=len(new))
        _measure(list(new.values()), before=record.events, after=events, measures=measures)
        return len(new)
    raise SagaChangedConcurrently(saga_id)


ENDS = {"OrderConfirmed": "CONFIRMED", "OrderCancelled": "CANCELLED"}


def _measure(
    new: list[SeenEvent], *, before: dict[str, SeenEvent], after: dict[str, SeenEvent], measures: Measures
) -> None:
    for event in new:
        kind = event["type"]
        if kind == "OrderCreated":
            measures.count("OrdersPlaced")
        elif kind == "OrderConfirmed":
            measures.count("OrdersConfirmed")
        elif kind == "OrderCancelled":
            measures.count("OrdersCancelled", by=("reason", str(event.get("reason"))))
        elif kind == "CompensationFailed":
            measures.count("CompensationFailures", by=("step", str(event.get("step"))))
    # Measured by the write that first knows both ends, so once, whatever order they arrived in.
    ends_before, ends_after = _ends(before), _ends(after)
    if ends_after is not None and ends_before is None:
        created, end = ends_after
        took = datetime.fromisoformat(end["occurredAt"]) - datetime.fromisoformat(created["occurredAt"])
        measures.seconds("SagaDuration", took.total_seconds(), by=("outcome", ENDS[end["type"]]))


def _ends(events: dict[str, SeenEvent]) -> tuple[SeenEvent, SeenEvent] | None:
    """The saga's OrderCreated and its final event, once both are known."""
    created = next((e for e in events.values() if e["type"] == "OrderCreated"), None)
    end = next((e for e in events.values() if e["type"] in ENDS), None)
    return (created, end) if created is not None and end is not None else None

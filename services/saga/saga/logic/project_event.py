"""Record one saga event in the read model and re-fold the saga's view; emits nothing.

Triggered by every saga event, through the projector's own queue. A duplicate (same event id) changes
nothing; concurrent events of one saga are serialised by optimistic locking and re-tried here. Each event
recorded for the first time is measured once (shared/metrics.py): orders placed, confirmed, cancelled by
reason, compensation failures by step, and the saga's duration once both its ends are known.
"""

from __future__ import annotations

from datetime import datetime

from saga.dal.saga_repository import SagaRecord, SagaRepository
from saga.logic.fold import SeenEvent, attention, saga_view, seen_event
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
    saga_id = envelope.metadata.correlation_id
    event_id = envelope.metadata.event_id
    for _ in range(ATTEMPTS):
        record = sagas.get(saga_id)
        if event_id in record.events:
            logger.info("event already projected")
            return False
        events = {**record.events, event_id: seen_event(envelope)}
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
        logger.info("saga projected", status=view.status)
        _measure(events[event_id], events, measures)
        return True
    raise SagaChangedConcurrently(saga_id)


ENDS = {"OrderConfirmed": "CONFIRMED", "OrderCancelled": "CANCELLED"}


def _measure(new: SeenEvent, events: dict[str, SeenEvent], measures: Measures) -> None:
    kind = new["type"]
    if kind == "OrderCreated":
        measures.count("OrdersPlaced")
    elif kind == "OrderConfirmed":
        measures.count("OrdersConfirmed")
    elif kind == "OrderCancelled":
        measures.count("OrdersCancelled", by=("reason", str(new.get("reason"))))
    elif kind == "CompensationFailed":
        measures.count("CompensationFailures", by=("step", str(new.get("step"))))
    if kind != "OrderCreated" and kind not in ENDS:
        return
    # Measured by whichever end is recorded second, so once, whatever order they arrived in.
    created = next((e for e in events.values() if e["type"] == "OrderCreated"), None)
    end = next((e for e in events.values() if e["type"] in ENDS), None)
    if created is not None and end is not None:
        took = datetime.fromisoformat(end["occurredAt"]) - datetime.fromisoformat(created["occurredAt"])
        measures.seconds("SagaDuration", took.total_seconds(), by=("outcome", ENDS[end["type"]]))

"""Record one saga event in the read model and re-fold the saga's view; emits nothing.

Triggered by every saga event, through the projector's own queue. A duplicate (same event id) changes
nothing; concurrent events of one saga are serialised by optimistic locking and re-tried here.
"""

from __future__ import annotations

from saga.dal.saga_repository import SagaRecord, SagaRepository
from saga.logic.fold import saga_view, seen_event
from shared.errors import SagaChangedConcurrently
from shared.observability import logger
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope

ATTEMPTS = 8


def project_event(envelope: Envelope[DomainEvent], *, sagas: SagaRepository) -> bool:
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
                saga_id, SagaRecord(events=events, version=record.version + 1), view, expected_version=record.version
            )
        except SagaChangedConcurrently:
            continue
        logger.info("saga projected", status=view.status)
        return True
    raise SagaChangedConcurrently(saga_id)

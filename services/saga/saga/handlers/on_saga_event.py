"""Project every saga event into the saga's read model (status, steps, failure reason, timeline).

Triggered by every event of the saga (its subscription SagaOnSagaEventSubscription, through the
projector's own queue); emits no event, and the business metrics of each saga (shared/metrics.py).
Try it: `sam remote invoke SagaOnSagaEventFunction --event-file events/sqs/OrderCreated.json`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from saga.handlers.wiring import wiring
from saga.logic.project_event import project_events
from shared.consumer import consume_grouped
from shared.metrics import measures
from shared.observability import logger, tracer
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope


def react(envelopes: list[Envelope[DomainEvent]]) -> None:
    """Project the batch's events of one saga, in one write."""
    project_events(envelopes, sagas=wiring.saga_repository, measures=measures)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out; a batch's sagas are read in one call, then projected saga
    by saga."""
    return consume_grouped(
        event,
        context,
        expected=DomainEvent,
        key=lambda envelope: envelope.metadata.correlation_id,
        react=react,
        reads_ahead=wiring.saga_repository,
    )

"""Schedule the deadline of a new order; emits nothing (the deadline function may emit OrderCancelled).

Triggered by OrderCreated through the order service's own SQS queue (rule OrderOnOrderCreatedRule).
Try it: `sam remote invoke OrderOnOrderCreatedFunction --event-file events/sqs/OrderCreated.json`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.schedule_deadline import schedule_deadline
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.order import OrderCreated


def react(envelope: Envelope[OrderCreated]) -> None:
    """Apply one OrderCreated event."""
    schedule_deadline(envelope, scheduler=wiring.deadline_scheduler, now=utc_now())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    return consume(event, context, expected=OrderCreated, react=react)

"""Commit a confirmed order's reservation, so no later cancel can release it; emits nothing.

Triggered by OrderConfirmed through the inventory service's own SQS queue (rule
InventoryOnOrderConfirmedRule). Try it: `sam remote invoke InventoryOnOrderConfirmedFunction
--event-file events/sqs/OrderConfirmed.json`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers.wiring import wiring
from inventory.logic.commit_stock import commit_stock
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderConfirmed


def react(envelope: Envelope[OrderConfirmed]) -> None:
    """Apply one OrderConfirmed event."""
    commit_stock(envelope, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(event, context, expected=OrderConfirmed, react=react, reads_ahead=wiring.unit_of_work)

"""Release a cancelled order's reservation; emits InventoryReleased, CompensationFailed, or nothing.

Triggered by OrderCancelled through the inventory service's own SQS queue (rule
InventoryOnOrderCancelledRule). Try it: `sam remote invoke InventoryOnOrderCancelledFunction
--event-file events/sqs/OrderCancelled.json` against the local stack, or `sam local invoke` where
Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers.wiring import wiring
from inventory.logic.release_stock import release_stock, report_release_failure
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCancelled


def react(envelope: Envelope[OrderCancelled]) -> None:
    """Apply one OrderCancelled event."""
    release_stock(envelope, uow=wiring.unit_of_work)


def give_up(envelope: Envelope[OrderCancelled], error: Exception) -> None:
    """The last delivery failed: report the release as failed."""
    report_release_failure(envelope, error, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(
        event, context, expected=OrderCancelled, react=react, give_up=give_up, reads_ahead=wiring.unit_of_work
    )

"""Cancel the order when a line is short; emits OrderCancelled (out_of_stock).

Triggered by InventoryFailed through the order service's own SQS queue (rule OrderOnInventoryFailedRule).
Try it: `sam remote invoke OrderOnInventoryFailedFunction
--event-file events/sqs/InventoryFailed.json` against the
local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.finish_order import cancel_on_inventory_failed
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.inventory import InventoryFailed


def react(envelope: Envelope[InventoryFailed]) -> None:
    """Apply one InventoryFailed event."""
    cancel_on_inventory_failed(envelope, uow=wiring.unit_of_work, now=utc_now())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(event, context, expected=InventoryFailed, react=react, reads_ahead=wiring.unit_of_work)

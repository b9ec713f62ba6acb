"""Confirm the order once every line is reserved; emits OrderConfirmed.

Triggered by InventoryReserved through the order service's own SQS queue (rule OrderOnInventoryReservedRule).
Try it: `sam remote invoke OrderOnInventoryReservedFunction
--event-file events/sqs/InventoryReserved.json` against the
local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.finish_order import confirm_or_note_reservation
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.inventory import InventoryReserved


def react(envelope: Envelope[InventoryReserved]) -> None:
    """Apply one InventoryReserved event."""
    confirm_or_note_reservation(envelope, uow=wiring.unit_of_work, now=utc_now())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(event, context, expected=InventoryReserved, react=react, reads_ahead=wiring.unit_of_work)

"""Release a cancelled order's reservation; emits InventoryReleased or nothing.

Triggered by OrderCancelled through the inventory service's own SQS queue (rule InventoryOnOrderCancelledRule).
Try it: `sam remote invoke InventoryOnOrderCancelledFunction
--event-file events/sqs/OrderCancelled.json` against the
local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers.wiring import inventory_repository
from inventory.logic.release_stock import release_stock
from inventory.models.settings import get_settings
from shared.consumer import consume
from shared.contracts.envelope import Envelope
from shared.contracts.order import OrderCancelled
from shared.observability import logger


def react(envelope: Envelope[OrderCancelled], attempt: int) -> None:
    """Apply one OrderCancelled event."""
    release_stock(envelope, stock=inventory_repository(), last_attempt=attempt >= get_settings().max_attempts)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    return consume(event, context, expected=OrderCancelled, react=react)

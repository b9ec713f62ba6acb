"""Reserve every line of a paid order, or none; emits InventoryReserved or InventoryFailed.

Triggered by PaymentProcessed through the inventory service's own SQS queue (rule
InventoryOnPaymentProcessedRule). Try it: `sam remote invoke InventoryOnPaymentProcessedFunction
--event-file events/sqs/PaymentProcessed.json` against the local stack, or `sam local invoke` where
Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers.wiring import wiring
from inventory.logic.reserve_stock import reserve_stock
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope
from shop_contracts.payment import PaymentProcessed


def react(envelope: Envelope[PaymentProcessed]) -> None:
    """Apply one PaymentProcessed event."""
    reserve_stock(envelope, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    return consume(event, context, expected=PaymentProcessed, react=react)

"""Keep the order service's copy of the catalogue's prices; emits nothing.

Triggered by ProductPriced (inventory: a product created, or its price or name changed) through the order
service's own SQS queue (rule OrderOnProductPricedRule). Try it: `sam remote invoke
OrderOnProductPricedFunction --event-file events/sqs/ProductPriced.json` against the local stack.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.record_price import record_price
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope
from shop_contracts.inventory import ProductPriced


def react(envelope: Envelope[ProductPriced]) -> None:
    """Apply one ProductPriced event."""
    record_price(envelope, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    return consume(event, context, expected=ProductPriced, react=react)

"""Settle the charge of a confirmed order, so no later cancel can refund it; emits nothing.

Triggered by OrderConfirmed through the payment service's own SQS queue (rule PaymentOnOrderConfirmedRule).
Try it: `sam remote invoke PaymentOnOrderConfirmedFunction --event-file events/sqs/OrderConfirmed.json`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers.wiring import wiring
from payment.logic.settle_payment import settle_payment
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderConfirmed


def react(envelope: Envelope[OrderConfirmed]) -> None:
    """Apply one OrderConfirmed event."""
    settle_payment(envelope, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(event, context, expected=OrderConfirmed, react=react, reads_ahead=wiring.unit_of_work)

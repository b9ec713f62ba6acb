"""Charge a new order once; emits PaymentProcessed or PaymentFailed (also when its last delivery still has
no answer from the gateway: `payment_outcome_unknown`).

Triggered by OrderCreated through the payment service's own SQS queue (rule PaymentOnOrderCreatedRule).
Try it: `sam remote invoke PaymentOnOrderCreatedFunction --event-file events/sqs/OrderCreated.json`
against the local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers.wiring import wiring
from payment.logic.charge_order import charge_order, resolve_unanswered_charge
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.order import OrderCreated


def react(envelope: Envelope[OrderCreated]) -> None:
    """Apply one OrderCreated event."""
    charge_order(envelope, uow=wiring.unit_of_work, gateway=wiring.gateway, tokens=wiring.token_opener, now=utc_now())


def give_up(envelope: Envelope[OrderCreated], error: Exception) -> None:
    """The last delivery failed: resolve the charge's claim, so no order waits on a charge nobody decides."""
    resolve_unanswered_charge(
        envelope, error, uow=wiring.unit_of_work, gateway=wiring.gateway, tokens=wiring.token_opener
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    return consume(event, context, expected=OrderCreated, react=react, give_up=give_up)

"""Refund (or void) a cancelled order's payment; emits PaymentRefunded or nothing.

Triggered by OrderCancelled through the payment service's own SQS queue (rule PaymentOnOrderCancelledRule).
Try it: `sam remote invoke PaymentOnOrderCancelledFunction
--event-file events/sqs/OrderCancelled.json` against the
local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers.wiring import gateway, payment_repository
from payment.logic.refund_payment import refund_payment
from payment.models.settings import get_settings
from shared.consumer import consume
from shared.contracts.envelope import Envelope
from shared.contracts.order import OrderCancelled
from shared.observability import logger


def react(envelope: Envelope[OrderCancelled], attempt: int) -> None:
    """Apply one OrderCancelled event."""
    refund_payment(
        envelope,
        order_id=envelope.data.order_id,
        payments=payment_repository(),
        gateway=gateway(),
        last_attempt=attempt >= get_settings().max_attempts,
    )


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    return consume(event, context, expected=OrderCancelled, react=react)

"""Refund (or void) a cancelled order's payment; emits PaymentRefunded, CompensationFailed, or nothing.

Triggered by OrderCancelled through the payment service's own SQS queue (rule PaymentOnOrderCancelledRule).
Try it: `sam remote invoke PaymentOnOrderCancelledFunction --event-file events/sqs/OrderCancelled.json`
against the local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers.wiring import wiring
from payment.logic.refund_payment import refund_payment, report_refund_failure
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.order import OrderCancelled


def react(envelope: Envelope[OrderCancelled]) -> None:
    """Apply one OrderCancelled event."""
    refund_payment(envelope, uow=wiring.unit_of_work, gateway=wiring.gateway, now=utc_now())


def give_up(envelope: Envelope[OrderCancelled], error: Exception) -> None:
    """The last delivery failed: report the refund as failed."""
    report_refund_failure(envelope, error, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(
        event, context, expected=OrderCancelled, react=react, give_up=give_up, reads_ahead=wiring.unit_of_work
    )

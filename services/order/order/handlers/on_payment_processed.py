"""Note that an order was paid, and confirm it if its lines are reserved already; may emit OrderConfirmed.

Triggered by PaymentProcessed through the order service's own SQS queue (rule
OrderOnPaymentProcessedRule). Try it: `sam remote invoke OrderOnPaymentProcessedFunction
--event-file events/sqs/PaymentProcessed.json`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.finish_order import confirm_or_note_payment
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.payment import PaymentProcessed


def react(envelope: Envelope[PaymentProcessed]) -> None:
    """Apply one PaymentProcessed event."""
    confirm_or_note_payment(envelope, uow=wiring.unit_of_work, now=utc_now())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(event, context, expected=PaymentProcessed, react=react, reads_ahead=wiring.unit_of_work)

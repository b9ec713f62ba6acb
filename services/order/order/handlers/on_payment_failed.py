"""Cancel the order when its charge is declined; emits OrderCancelled (payment_declined).

Triggered by PaymentFailed through the order service's own SQS queue (rule OrderOnPaymentFailedRule).
Try it: `sam remote invoke OrderOnPaymentFailedFunction
--event-file events/sqs/PaymentFailed.json` against the
local stack, or `sam local invoke` where Docker runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.finish_order import cancel_on_payment_failed
from shared.consumer import consume
from shared.observability import logger, tracer
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.payment import PaymentFailed


def react(envelope: Envelope[PaymentFailed]) -> None:
    """Apply one PaymentFailed event."""
    cancel_on_payment_failed(envelope, uow=wiring.unit_of_work, now=utc_now())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders' records read in one call), partial batch response out."""
    return consume(event, context, expected=PaymentFailed, react=react, reads_ahead=wiring.unit_of_work)

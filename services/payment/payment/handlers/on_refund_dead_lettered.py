"""Report refunds whose every delivery failed without a word (a timeout, a crash); emits CompensationFailed.

Triggered every minute by a schedule (PaymentRefundDeadLettersFunction). Reads the dead-letter queue of
PaymentOnOrderCancelled and reports each cancelled order whose payment still holds money, once, with the
code `dead_lettered` (`shared.dead_letters`); the messages stay in the queue for a redrive after a fix.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers.wiring import wiring
from payment.logic.refund_payment import report_refund_failure
from shared import aws
from shared.dead_letters import dead_letter_settings, report_dead_letters
from shared.observability import logger
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCancelled


def report(envelope: Envelope[OrderCancelled]) -> bool:
    """Report one dead-lettered refund, if its payment still holds money and nobody reported it."""
    return report_refund_failure(envelope, None, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """A scheduled event in, what the scan found out."""
    scan = report_dead_letters(aws.sqs(), dead_letter_settings().queue_url, OrderCancelled, report)
    return scan.__dict__

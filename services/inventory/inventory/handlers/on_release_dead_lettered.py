"""Report releases whose every delivery failed without a word (a timeout, a crash); emits CompensationFailed.

Triggered every minute by a schedule (InventoryReleaseDeadLettersFunction). Reads the dead-letter queue of
InventoryOnOrderCancelled and reports each cancelled order whose reservation is still held, once, with the
code `dead_lettered` (`shared.dead_letters`); the messages stay in the queue for a redrive after a fix.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers.wiring import wiring
from inventory.logic.release_stock import report_release_failure
from shared import aws
from shared.dead_letters import dead_letter_settings, report_dead_letters
from shared.observability import logger
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCancelled


def report(envelope: Envelope[OrderCancelled]) -> bool:
    """Report one dead-lettered release, if its reservation is still held and nobody reported it."""
    return report_release_failure(envelope, None, uow=wiring.unit_of_work)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """A scheduled event in, what the scan found out."""
    scan = report_dead_letters(aws.sqs(), dead_letter_settings().queue_url, OrderCancelled, report)
    return scan.__dict__

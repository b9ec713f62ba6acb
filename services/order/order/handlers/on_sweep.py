"""Expire pending orders well past their deadline, whatever became of their schedule; emits OrderCancelled.

Triggered every minute by a schedule (OrderDeadlineSweepFunction). Try it: `sam remote invoke
OrderDeadlineSweepFunction` against the local stack.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers.wiring import wiring
from order.logic.sweep_deadlines import expire_overdue_orders
from shared.observability import logger, tracer
from shop_contracts.envelope import utc_now


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """A scheduled event in; how many orders were expired out."""
    return {"expired": expire_overdue_orders(uow=wiring.unit_of_work, now=utc_now())}

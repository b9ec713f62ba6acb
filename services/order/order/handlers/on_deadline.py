"""Cancel an order still pending at its deadline; emits OrderCancelled (timeout) through the outbox.

Triggered by the order's one-time EventBridge Scheduler schedule with `{"orderId": "..."}`.
Try it: `sam remote invoke OrderDeadlineFunction --event '{"orderId": "<id>"}'`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from order.handlers.wiring import order_repository
from order.logic.finish_order import expire_order
from shared.contracts.envelope import utc_now
from shared.observability import logger


class DeadlineReached(BaseModel):
    """The schedule's input."""

    model_config = ConfigDict(populate_by_name=True)
    order_id: str = Field(alias="orderId", min_length=1)


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Scheduler input in; whether the order was cancelled out."""
    try:
        deadline = DeadlineReached.model_validate(event)
    except ValidationError as exc:
        # Retrying cannot fix it; say why and stop.
        logger.error("deadline input rejected", reason=str(exc))
        return {"cancelled": False, "error": 'input must be {"orderId": "..."}'}
    logger.append_keys(correlation_id=deadline.order_id)
    cancelled = expire_order(deadline.order_id, orders=order_repository(), now=utc_now())
    return {"orderId": deadline.order_id, "cancelled": cancelled}

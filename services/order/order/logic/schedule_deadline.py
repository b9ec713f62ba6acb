"""Arrange for a new order to be cancelled at its deadline if it is still pending then.

Triggered by OrderCreated (the order service's own event, through its own queue); emits nothing now.
At the deadline the schedule invokes the deadline function (`expire_order`), which emits
OrderCancelled (timeout) if the order has not ended by then.
"""

from __future__ import annotations

from order.dal.deadline_scheduler import Scheduler
from shared.contracts.envelope import Envelope
from shared.contracts.order import OrderCreated
from shared.observability import logger


def schedule_deadline(cause: Envelope[OrderCreated], *, scheduler: Scheduler) -> None:
    """Every order gets exactly one deadline schedule, however often OrderCreated arrives."""
    if scheduler.schedule(cause.data.order_id, cause.data.deadline):
        logger.info("deadline scheduled", deadline=cause.data.deadline.isoformat())

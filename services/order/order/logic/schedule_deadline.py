"""Arrange for a new order to be cancelled at its deadline if it is still pending then.

Triggered by OrderCreated (the order service's own event, through its own queue); emits nothing now.
At the deadline the schedule invokes the deadline function (`expire_order`), which emits
OrderCancelled (timeout) if the order has not ended by then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from order.dal.deadline_scheduler import Scheduler
from shared.observability import logger
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderCreated


def schedule_deadline(cause: Envelope[OrderCreated], *, scheduler: Scheduler, now: datetime) -> None:
    """Every order gets exactly one deadline schedule, however often OrderCreated arrives; a deadline
    already due (OrderCreated arrived late) fires at once.

    A schedule that cannot be created raises, so the delivery is retried; should it never succeed,
    the deadline sweeper still finds the order pending past its deadline.
    """
    order_id, deadline = cause.data.order_id, cause.data.deadline
    if deadline <= now + timedelta(seconds=1):
        scheduler.fire_now(order_id)
        logger.info("deadline already due; sent at once", deadline=deadline.isoformat())
    elif scheduler.schedule(order_id, deadline):
        logger.info("deadline scheduled", deadline=deadline.isoformat())

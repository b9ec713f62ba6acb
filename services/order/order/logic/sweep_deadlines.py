"""The deadline safety net: pending orders well past their deadline are expired, whatever became of their
schedule; emits OrderCancelled (timeout) for each, through the outbox.

Triggered every minute by a schedule. Normally the order's own one-time schedule expires it at its
deadline; this catches an order whose schedule could not be created, or whose deadline never arrived.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from order.dal.order_repository import OrderUnitOfWork
from order.logic.finish_order import expire_order
from shared.observability import logger

# Left to the order's own schedule for this long after its deadline.
OVERDUE_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 100


def expire_overdue_orders(*, uow: OrderUnitOfWork, now: datetime) -> int:
    """Expire every pending order more than a minute past its deadline; returns how many were."""
    expired = 0
    while overdue := uow.orders.overdue(now - OVERDUE_AFTER, limit=SWEEP_BATCH):
        expired += sum(expire_order(order_id, uow=uow, now=now) for order_id in overdue)
        if len(overdue) < SWEEP_BATCH:
            break
    if expired:
        logger.warning("deadline sweeper expired orders their schedules missed", expired=expired)
    return expired

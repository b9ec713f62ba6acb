"""Builds the order service's adapters from its settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from order.dal.deadline_scheduler import DeadlineScheduler
from order.dal.order_repository import OrderRepository, SagaViewReader
from order.models.settings import get_deadline_settings, get_settings
from shared import aws


@cache
def order_repository() -> OrderRepository:
    """The repository over the order table."""
    settings = get_settings()
    return OrderRepository(aws.dynamodb(), settings.order_table_name, dedupe=settings.dedupe_events)


@cache
def saga_views() -> SagaViewReader:
    """The read-only view of the saga projector's table."""
    return SagaViewReader(aws.dynamodb(), get_settings().saga_table_name)


@cache
def deadline_scheduler() -> DeadlineScheduler:
    """The scheduler of order deadlines."""
    settings = get_deadline_settings()
    return DeadlineScheduler(aws.scheduler(), settings.deadline_queue_arn, settings.scheduler_role_arn)

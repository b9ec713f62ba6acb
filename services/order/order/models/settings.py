"""Configuration of the order functions, validated once per execution environment."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from shared.settings import Settings, load_settings


class OrderSettings(Settings):
    """What every order function needs."""

    order_table_name: str = Field(alias="ORDER_TABLE_NAME", min_length=1)
    saga_table_name: str = Field(alias="SAGA_TABLE_NAME", min_length=1)
    deadline_seconds: int = Field(alias="ORDER_DEADLINE_SECONDS", ge=1)
    # Test-only: switches every once-only guard off (the inbox, and for payment and inventory the one
    # record per order), so the fault suite's negative control can prove its checker catches it.
    dedupe_events: bool = Field(default=True, alias="DEDUPE_EVENTS")


@cache
def get_settings() -> OrderSettings:
    """The validated settings; fails fast on the first call if the environment is wrong."""
    return load_settings(OrderSettings)


class DeadlineSettings(Settings):
    """What the function that schedules deadlines needs."""

    deadline_queue_arn: str = Field(alias="DEADLINE_QUEUE_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)


@cache
def get_deadline_settings() -> DeadlineSettings:
    """The validated deadline settings."""
    return load_settings(DeadlineSettings)

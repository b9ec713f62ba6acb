"""Configuration of the inventory functions, validated once per execution environment."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from shared.settings import Settings, load_settings


class InventorySettings(Settings):
    """What every inventory function needs."""

    inventory_table_name: str = Field(alias="INVENTORY_TABLE_NAME", min_length=1)
    # Deliveries a release gets before it is reported as CompensationFailed (the queue's maxReceiveCount).
    max_attempts: int = Field(default=3, alias="MAX_RECEIVE_COUNT", ge=1)
    # Test-only: switches every once-only guard off (the inbox, and for payment and inventory the one
    # record per order), so the fault suite's negative control can prove its checker catches it.
    dedupe_events: bool = Field(default=True, alias="DEDUPE_EVENTS")


@cache
def get_settings() -> InventorySettings:
    """The validated settings; fails fast on the first call if the environment is wrong."""
    return load_settings(InventorySettings)

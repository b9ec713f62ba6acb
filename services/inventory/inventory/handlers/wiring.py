"""Builds the inventory service's adapters from its settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from inventory.dal.inventory_repository import InventoryRepository
from inventory.models.settings import get_settings
from shared import aws


@cache
def inventory_repository() -> InventoryRepository:
    """The repository over the inventory table."""
    settings = get_settings()
    return InventoryRepository(aws.dynamodb(), settings.inventory_table_name, dedupe=settings.dedupe_events)

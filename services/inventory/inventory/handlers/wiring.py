"""Builds the inventory service's adapters from each function's settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.models.settings import InventoryTableSettings
from shared import aws, seams
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable


@cache
def unit_of_work() -> InventoryUnitOfWork:
    """The unit of work over the inventory table."""
    settings = load_settings(InventoryTableSettings)
    return InventoryUnitOfWork(seams.table(DynamoTable(aws.dynamodb(), settings.inventory_table_name)))

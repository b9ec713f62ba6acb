"""The inventory service's adapters, built from each function's settings once per execution environment.

Handlers use the one instance, `wiring`; tests forget what it built with `shared.environment.reset()`.
"""

from __future__ import annotations

from functools import cached_property

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.models.settings import InventoryTableSettings
from shared import aws, seams
from shared.environment import Wiring
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable, ReadAhead


class InventoryWiring(Wiring):
    """What the inventory service's functions are wired to."""

    @cached_property
    def unit_of_work(self) -> InventoryUnitOfWork:
        """The unit of work over the inventory table."""
        settings = load_settings(InventoryTableSettings)
        return InventoryUnitOfWork(ReadAhead(seams.table(DynamoTable(aws.dynamodb(), settings.inventory_table_name))))


wiring = InventoryWiring()

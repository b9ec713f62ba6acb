"""Configuration of the inventory functions, composed per function and validated once."""

from pydantic import Field

from shared.settings import Settings


class InventoryTableSettings(Settings):
    """Every inventory function reads or writes the inventory table."""

    inventory_table_name: str = Field(alias="INVENTORY_TABLE_NAME", min_length=1)

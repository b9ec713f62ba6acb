"""The saga projector's views, read-only: the order API shows an order's saga beside the order."""

from __future__ import annotations

from dataclasses import dataclass

from shared.storage import Item, Table
from shop_contracts.saga import VIEW_ATTRIBUTE, SagaView, saga_key


@dataclass(frozen=True)
class SagaViews:
    """Reads the views the projector publishes in its table (see `shop_contracts.saga`)."""

    table: Table

    def get(self, order_id: str) -> SagaView | None:
        """The saga's view, or None when the projector has not seen it yet."""
        return self.view_of(self.table.get(saga_key(order_id)))

    @staticmethod
    def view_of(item: Item | None) -> SagaView | None:
        """The view a saga's item holds, or None."""
        return SagaView.model_validate(item[VIEW_ATTRIBUTE]) if item and VIEW_ATTRIBUTE in item else None

"""The inventory table: products, one reservation per order, and the service's inbox and outbox."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.models.stock import Product, Reservation, ReservationStatus
from shared.contracts.base import LineItem
from shared.repository import TableRepository
from shared.transaction import Transaction

PRODUCT_LABEL_PREFIX = "product:"


def _product_key(product_id: str) -> dict[str, str]:
    return {"pk": f"PRODUCT#{product_id}"}


def _reservation_key(order_id: str) -> dict[str, str]:
    return {"pk": f"RESERVATION#{order_id}"}


@dataclass(frozen=True)
class InventoryRepository(TableRepository):
    """Reads stock and stages its changes; every decrement is guarded so stock never goes negative."""

    def product(self, product_id: str) -> Product | None:
        """The product, or None."""
        item = self._item(_product_key(product_id))
        return Product.model_validate(item) if item else None

    def available(self, product_id: str) -> int:
        """Units free to reserve; 0 for a product inventory does not know."""
        product = self.product(product_id)
        return product.available if product else 0

    def save_product(self, product: Product) -> None:
        """Create or replace a product (an operator's restock)."""
        self.dynamodb.Table(self.table_name).put_item(Item={**_product_key(product.product_id), **product.to_wire()})

    def reservation(self, order_id: str) -> Reservation | None:
        """The order's reservation record, or None."""
        item = self._item(_reservation_key(order_id))
        return Reservation.model_validate(item) if item else None

    @staticmethod
    def take(tx: Transaction, line: LineItem) -> None:
        """Stage taking a line's units from stock, only if that many are available."""
        tx.update(
            _product_key(line.product_id),
            "SET available = available - :quantity",
            label=f"{PRODUCT_LABEL_PREFIX}{line.product_id}",
            condition="available >= :quantity",
            values={":quantity": line.quantity},
        )

    @staticmethod
    def give_back(tx: Transaction, line: LineItem) -> None:
        """Stage returning a line's units to stock."""
        tx.update(
            _product_key(line.product_id),
            "SET available = available + :quantity",
            label=f"{PRODUCT_LABEL_PREFIX}{line.product_id}",
            condition="attribute_exists(pk)",
            values={":quantity": line.quantity},
        )

    def add_reservation(self, tx: Transaction, reservation: Reservation) -> None:
        """Stage the first and only reservation record of an order (unguarded only with dedupe off)."""
        tx.put(
            {**_reservation_key(reservation.order_id), **reservation.to_wire()},
            label="reservation",
            condition="attribute_not_exists(pk)" if self.dedupe else None,
        )

    @staticmethod
    def move_reservation(tx: Transaction, reservation: Reservation, to: ReservationStatus) -> None:
        """Stage a status change that only applies if the reservation is still as it was read."""
        tx.update(
            _reservation_key(reservation.order_id),
            "SET #status = :to",
            label="reservation",
            condition="#status = :from",
            names={"#status": "status"},
            values={":to": to.value, ":from": reservation.status.value},
        )

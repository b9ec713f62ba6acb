"""The inventory table: products (`PRODUCT#<id>`), one reservation per order (`RESERVATION#<orderId>`),
beside the inbox and outbox."""

from __future__ import annotations

from inventory.models.errors import OutOfStock, ProductMissing, StockLimit
from inventory.models.stock import MAX_STOCK, Product, Reservation, ReservationStatus
from shared.errors import ReservationChangedConcurrently, StockChangedConcurrently
from shared.storage import Key, Put, Update, absent, at_least, at_most, equals, exists, invariant, transition
from shared.unit_of_work import Repository, Step, UnitOfWork, repository
from shop_contracts.base import LineItem

# The invariants these writes' conditions enforce, by name (the negative controls switch them off).
ONE_RESERVATION_PER_ORDER = "one_reservation_per_order"
ONE_RELEASE_PER_RESERVATION = "one_release_per_reservation"


def _product_key(product_id: str) -> dict[str, str]:
    return {"pk": f"PRODUCT#{product_id}"}


def _reservation_key(order_id: str) -> dict[str, str]:
    return {"pk": f"RESERVATION#{order_id}"}


class ProductRepository(Repository):
    """Products and their free stock; every decrement is guarded so stock never goes negative."""

    def get(self, product_id: str) -> Product | None:
        """The product, or None."""
        item = self.table.get(_product_key(product_id))
        return Product.model_validate(item) if item else None

    def available(self, product_id: str) -> int:
        """Units free to reserve; 0 for a product inventory does not know."""
        product = self.get(product_id)
        return product.available if product else 0

    def save(self, product: Product, *, replacing: Product | None) -> None:
        """Create a product, or replace the version `replacing` that was read (else
        `StockChangedConcurrently`: a reservation or another write came in between)."""
        condition = absent() if replacing is None else equals("version", replacing.version)
        self._stage(
            Put(
                {**_product_key(product.product_id), **product.to_wire()},
                condition=condition,
                conflict=lambda: StockChangedConcurrently(product.product_id),
            )
        )

    def restock(self, product_id: str, quantity: int) -> None:
        """Add units to a product's free stock atomically, whatever was reserved since anyone read it
        (else `StockLimit`, or `ProductNotFound` for an unknown product: the caller reads to tell which)."""
        self._stage(
            Update(
                _product_key(product_id),
                add={"available": quantity, "version": 1},
                condition=exists() & at_most("available", MAX_STOCK - quantity),
                conflict=lambda: StockLimit(product_id, MAX_STOCK),
            )
        )

    def take(self, line: LineItem) -> None:
        """Take a line's units from stock, only if that many are free (else `OutOfStock`)."""
        self._stage(
            Update(
                _product_key(line.product_id),
                add={"available": -line.quantity, "version": 1},
                condition=at_least("available", line.quantity),
                conflict=lambda: OutOfStock(line.product_id),
            )
        )

    def give_back(self, line: LineItem) -> None:
        """Return a line's units to stock (`ProductMissing` if the product is gone)."""
        self._stage(
            Update(
                _product_key(line.product_id),
                add={"available": line.quantity, "version": 1},
                condition=exists(),
                conflict=lambda: ProductMissing(line.product_id),
            )
        )


class ReservationRepository(Repository):
    """What inventory holds per order: created once, then released at most once."""

    def get(self, order_id: str) -> Reservation | None:
        """The order's reservation record, or None."""
        item = self.table.get(_reservation_key(order_id))
        return Reservation.model_validate(item) if item else None

    def add(self, reservation: Reservation) -> None:
        """The first and only reservation record of an order (else `ReservationChangedConcurrently`)."""
        self._stage(
            Put(
                {**_reservation_key(reservation.order_id), **reservation.to_wire()},
                condition=invariant(ONE_RESERVATION_PER_ORDER, absent()),
                conflict=lambda: ReservationChangedConcurrently(reservation.order_id),
            )
        )

    def commit(self, reservation: Reservation) -> None:
        """RESERVED becomes COMMITTED, once (else `ReservationChangedConcurrently`)."""
        self._stage(
            transition(
                _reservation_key(reservation.order_id),
                from_=reservation.status.value,
                to=ReservationStatus.COMMITTED.value,
                conflict=lambda: ReservationChangedConcurrently(reservation.order_id),
                enforcing=ONE_RELEASE_PER_RESERVATION,
            )
        )

    def release(self, reservation: Reservation) -> None:
        """RESERVED becomes RELEASED, once (else `ReservationChangedConcurrently`)."""
        self._stage(
            transition(
                _reservation_key(reservation.order_id),
                from_=reservation.status.value,
                to=ReservationStatus.RELEASED.value,
                conflict=lambda: ReservationChangedConcurrently(reservation.order_id),
                enforcing=ONE_RELEASE_PER_RESERVATION,
            )
        )


class InventoryRepositories:
    """The inventory service's repositories: on a step they stage writes, on the unit of work they only read."""

    products = repository(ProductRepository)
    reservations = repository(ReservationRepository)


class InventoryStep(Step, InventoryRepositories):
    """A step of the inventory service."""


class InventoryUnitOfWork(UnitOfWork[InventoryStep], InventoryRepositories):
    """The inventory service's unit of work on its table."""

    step_type = InventoryStep

    def order_record(self, order_id: str) -> Key:
        """The order's reservation: every reaction to a saga event writes it, so it carries the inbox marks."""
        return _reservation_key(order_id)

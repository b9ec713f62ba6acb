"""Give a cancelled order's reservation back to stock, once; emits InventoryReleased.

Triggered by OrderCancelled. With nothing reserved it changes nothing, except that an order cancelled
before payment is marked CANCELLED so a late PaymentProcessed reserves nothing. A release that still
fails on its last delivery emits CompensationFailed (the message then goes to the DLQ for a redrive).
"""

from __future__ import annotations

from inventory.dal.inventory_repository import InventoryRepository
from inventory.models.stock import Reservation, ReservationStatus
from shared.contracts.compensation import CompensationFailed
from shared.contracts.envelope import Envelope, caused_by
from shared.contracts.inventory import InventoryReleased
from shared.contracts.order import OrderCancelled
from shared.errors import TransactionConflict
from shared.observability import logger


class ReservationChangedConcurrently(Exception):
    """The reservation changed between read and write; the delivery is retried."""


def release_stock(cause: Envelope[OrderCancelled], *, stock: InventoryRepository, last_attempt: bool = False) -> None:
    """What a cancelled order holds goes back to stock exactly once.

    Raises
    ------
    ReservationChangedConcurrently
        When the record changed under us; the redelivery sees the new state.
    """
    order_id = cause.data.order_id
    reservation = stock.reservation(order_id)
    tx = stock.transaction()
    tx.consume(cause)
    if reservation is None:
        stock.add_reservation(tx, Reservation(order_id=order_id, status=ReservationStatus.CANCELLED))
        outcome = "cancelled before any reservation"
    elif reservation.status is ReservationStatus.RESERVED:
        for line in reservation.items:
            stock.give_back(tx, line)
        stock.move_reservation(tx, reservation, ReservationStatus.RELEASED)
        tx.emit(caused_by(InventoryReleased(order_id=order_id, items=reservation.items), cause.metadata))
        outcome = "reservation released"
    else:
        logger.info("nothing to release", status=reservation.status.value)
        return
    try:
        stock.commit(tx)
    except TransactionConflict as exc:
        if last_attempt and reservation is not None and "reservation" not in exc.failed:
            # A product line could not take its units back (the product is gone): operators must act.
            _record_release_failure(cause, reservation, f"could not return stock: {', '.join(exc.failed)}", stock)
        raise ReservationChangedConcurrently(order_id) from exc
    logger.info(outcome)


def _record_release_failure(
    cause: Envelope[OrderCancelled], reservation: Reservation, reason: str, stock: InventoryRepository
) -> None:
    # Not consumed: after a fix, a redrive of the DLQ message retries the release.
    tx = stock.transaction()
    tx.emit(
        caused_by(
            CompensationFailed(order_id=reservation.order_id, step="release_inventory", reason=reason), cause.metadata
        )
    )
    stock.commit(tx)
    logger.error("release failed for good; CompensationFailed published", reason=reason)

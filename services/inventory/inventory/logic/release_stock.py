"""Give a cancelled order's reservation back to stock, once; emits InventoryReleased, or CompensationFailed.

Triggered by OrderCancelled. With nothing reserved it changes nothing, except that an order cancelled
before payment is marked CANCELLED so a late PaymentProcessed reserves nothing. A release still failing
on its last delivery, whatever the cause, emits CompensationFailed; the dead-lettered message then
releases the stock when it is redriven after a fix.
"""

from __future__ import annotations

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.models.errors import ProductMissing
from inventory.models.stock import Reservation, ReservationStatus
from shared.errors import DuplicateEvent
from shared.observability import logger
from shop_contracts.compensation import CompensationFailed, CompensationFailureCode
from shop_contracts.envelope import Envelope
from shop_contracts.inventory import InventoryReleased
from shop_contracts.order import OrderCancelled


def release_stock(cause: Envelope[OrderCancelled], *, uow: InventoryUnitOfWork) -> None:
    """What a cancelled order holds goes back to stock exactly once.

    Raises
    ------
    ReservationChangedConcurrently
        When the record changed under us; the redelivery sees the new state.
    ProductMissing
        When a product to return units to is gone; retried, then reported.
    """
    order_id = cause.data.order_id
    reservation = uow.reservations.get(order_id)
    if reservation is None:
        with uow.reacting_to(cause) as step:
            step.reservations.add(Reservation(order_id=order_id, status=ReservationStatus.CANCELLED))
        logger.info("cancelled before any reservation")
        return
    if reservation.status is ReservationStatus.COMMITTED:
        # The order service confirmed this order; it never cancels a confirmed one.
        logger.error("release refused: the order was confirmed, so this cancel is forged or misrouted")
        return
    if reservation.status is not ReservationStatus.RESERVED:
        logger.info("nothing to release", status=reservation.status.value)
        return
    with uow.reacting_to(cause) as step:
        step.reservations.release(reservation)
        for line in reservation.items:
            step.products.give_back(line)
        step.emit(InventoryReleased(order_id=order_id, items=reservation.items))
    logger.info("reservation released")


def report_release_failure(
    cause: Envelope[OrderCancelled], error: Exception | None, *, uow: InventoryUnitOfWork
) -> bool:
    """The release failed for good: a reservation still held is reported to operators, once, by a code.

    Called by the last delivery with its error, and by the dead-letter reporter with none (a delivery that
    timed out or crashed never reported: `dead_lettered`). The event is not marked applied, so a redrive of
    the dead-lettered message releases after a fix.

    Returns whether it reported (False: nothing is held, or it was reported before).
    """
    reservation = uow.reservations.get(cause.data.order_id)
    if reservation is None or reservation.status is not ReservationStatus.RESERVED:
        return False
    code: CompensationFailureCode = (
        "dead_lettered"
        if error is None
        else "product_missing"
        if isinstance(error, ProductMissing)
        else "release_failed"
    )
    try:
        with uow.reporting_failure_of(cause) as step:
            step.emit(CompensationFailed.because(reservation.order_id, "release_inventory", code))
    except DuplicateEvent:
        logger.info("release failure reported before", code=code)
        return False
    # The error's text stays here, beside the message id: the event and the saga view carry the code.
    logger.error(
        "release failed for good; CompensationFailed published", code=code, error=str(error)[:2000] if error else None
    )
    return True

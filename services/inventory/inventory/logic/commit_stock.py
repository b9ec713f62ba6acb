"""Commit a confirmed order's reservation: the units are sold, never to be released; emits nothing.

Triggered by OrderConfirmed. A later OrderCancelled for the same order can only be forged or misrouted
(the order service never cancels a confirmed order), and the release logic refuses to act on it.
"""

from __future__ import annotations

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.models.stock import ReservationStatus
from shared.observability import logger
from shop_contracts.envelope import Envelope
from shop_contracts.order import OrderConfirmed


def commit_stock(cause: Envelope[OrderConfirmed], *, uow: InventoryUnitOfWork) -> None:
    """A held reservation of a confirmed order becomes COMMITTED, once.

    Raises
    ------
    ReservationChangedConcurrently
        When the record changed under us; the redelivery sees the new state.
    """
    reservation = uow.reservations.get(cause.data.order_id)
    if reservation is not None and reservation.status is ReservationStatus.COMMITTED:
        # A redelivery of this confirmation (or a copy of it): the reservation it commits is committed.
        logger.info("reservation already committed")
        return
    if reservation is None or reservation.status is not ReservationStatus.RESERVED:
        logger.error("confirmation refused: no reservation to commit", status=reservation and reservation.status.value)
        return
    with uow.reacting_to(cause) as step:
        step.reservations.commit(reservation)
    logger.info("reservation committed")

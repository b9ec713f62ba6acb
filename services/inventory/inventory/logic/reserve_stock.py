"""Reserve every line of a paid order in one transaction, or none; emits InventoryReserved or InventoryFailed.

Triggered by PaymentProcessed. Each line's decrement is conditional on enough stock, so stock never goes
negative and a multi-line order is all-or-nothing. A reservation record per order makes a second
reservation impossible, and an order cancelled before payment arrived is not reserved at all.
"""

from __future__ import annotations

from inventory.dal.inventory_repository import InventoryRepository
from inventory.models.stock import Reservation, ReservationStatus, merge_lines
from shared.contracts.base import LineItem
from shared.contracts.envelope import Envelope, caused_by
from shared.contracts.inventory import InventoryFailed, InventoryReserved, Shortage
from shared.contracts.payment import PaymentProcessed
from shared.errors import TransactionConflict
from shared.observability import logger


class StockChangedConcurrently(Exception):
    """The reservation failed but no line is short any more (stock was restocked meanwhile); retried."""


def reserve_stock(cause: Envelope[PaymentProcessed], *, stock: InventoryRepository) -> None:
    """A paid order's lines are all taken from stock, or nothing is and the shortages are reported.

    Raises
    ------
    StockChangedConcurrently
        When the transaction failed yet every line now looks available; the redelivery tries again.
    """
    order_id = cause.data.order_id
    existing = stock.reservation(order_id)
    if existing is not None and stock.dedupe:
        logger.info("order already has a reservation record; nothing to reserve", status=existing.status.value)
        return
    lines = merge_lines(cause.data.items)
    tx = stock.transaction()
    tx.consume(cause)
    for line in lines:
        stock.take(tx, line)
    stock.add_reservation(tx, Reservation(order_id=order_id, status=ReservationStatus.RESERVED, items=lines))
    tx.emit(caused_by(InventoryReserved(order_id=order_id, items=lines), cause.metadata))
    try:
        stock.commit(tx)
    except TransactionConflict as exc:
        if "reservation" in exc.failed:
            logger.info("reservation record appeared concurrently; nothing reserved")
            return
        _report_shortages(cause, lines, stock)
        return
    logger.info("stock reserved", lines=len(lines))


def _report_shortages(
    cause: Envelope[PaymentProcessed], lines: tuple[LineItem, ...], stock: InventoryRepository
) -> None:
    order_id = cause.data.order_id
    shortages = tuple(
        Shortage(product_id=line.product_id, requested=line.quantity, available=available)
        for line in lines
        if (available := stock.available(line.product_id)) < line.quantity
    )
    if not shortages:
        raise StockChangedConcurrently(order_id)
    tx = stock.transaction()
    tx.consume(cause)
    stock.add_reservation(tx, Reservation(order_id=order_id, status=ReservationStatus.FAILED))
    tx.emit(caused_by(InventoryFailed(order_id=order_id, reason="out_of_stock", shortages=shortages), cause.metadata))
    try:
        stock.commit(tx)
    except TransactionConflict:
        logger.info("reservation record appeared concurrently; shortage not reported")
        return
    logger.info("stock short; nothing reserved", short=[s.product_id for s in shortages])

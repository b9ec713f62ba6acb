"""Reserve every line of a paid order in one commit, or none; emits InventoryReserved or InventoryFailed.

Triggered by PaymentProcessed. Each line's decrement is conditional on enough stock, so stock never goes
negative and a multi-line order is all-or-nothing. A reservation record per order makes a second
reservation impossible, and an order cancelled before payment arrived is not reserved at all.
"""

from __future__ import annotations

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.models.errors import OutOfStock
from inventory.models.stock import Reservation, ReservationStatus
from shared.errors import ReservationChangedConcurrently, StockChangedConcurrently
from shared.observability import logger
from shop_contracts.base import LineItem, merge_lines
from shop_contracts.envelope import Envelope
from shop_contracts.inventory import InventoryFailed, InventoryReserved, Shortage
from shop_contracts.payment import PaymentProcessed


def reserve_stock(cause: Envelope[PaymentProcessed], *, uow: InventoryUnitOfWork) -> None:
    """A paid order's lines are all taken from stock, or nothing is and the shortages are reported.

    Raises
    ------
    StockChangedConcurrently
        When a line was short at commit yet every line looks available now (restocked meanwhile);
        the redelivery tries again.
    """
    order_id = cause.data.order_id
    lines = merge_lines(cause.data.items)
    try:
        with uow.reacting_to(cause) as step:
            # Staged first, so an order that already has a record says so even if stock is short too.
            step.reservations.add(Reservation(order_id=order_id, status=ReservationStatus.RESERVED, items=lines))
            for line in lines:
                step.products.take(line)
            step.emit(InventoryReserved(order_id=order_id, items=lines))
    except ReservationChangedConcurrently:
        logger.info("order already has a reservation record; nothing to reserve")
        return
    except OutOfStock:
        _report_shortages(cause, lines, uow)
        return
    logger.info("stock reserved", lines=len(lines))


def _report_shortages(cause: Envelope[PaymentProcessed], lines: tuple[LineItem, ...], uow: InventoryUnitOfWork) -> None:
    order_id = cause.data.order_id
    shortages = tuple(
        Shortage(product_id=line.product_id, requested=line.quantity, available=available)
        for line in lines
        if (available := uow.products.available(line.product_id)) < line.quantity
    )
    if not shortages:
        raise StockChangedConcurrently(order_id)
    try:
        with uow.reacting_to(cause) as step:
            step.reservations.add(Reservation(order_id=order_id, status=ReservationStatus.FAILED))
            step.emit(InventoryFailed(order_id=order_id, reason="out_of_stock", shortages=shortages))
    except ReservationChangedConcurrently:
        logger.info("reservation record appeared concurrently; shortage not reported")
        return
    logger.info("stock short; nothing reserved", short=[s.product_id for s in shortages])

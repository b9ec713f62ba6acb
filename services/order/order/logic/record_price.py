"""Keep the order service's copy of a product's price: the newest product version wins; emits nothing.

Triggered by ProductPriced. Price events may come late, twice or out of order: a price is written only
over an older version (a conditional write on the version), so the copy ends at the newest price
whatever the order of arrival, and an older price that lost the race is simply dropped.
"""

from __future__ import annotations

from order.dal.order_repository import OrderUnitOfWork
from order.models.catalogue import CataloguePrice, newest
from order.models.errors import PriceSuperseded
from shared.observability import logger
from shop_contracts.envelope import Envelope
from shop_contracts.inventory import ProductPriced


def record_price(cause: Envelope[ProductPriced], *, uow: OrderUnitOfWork) -> None:
    """The copy holds this price unless it already holds the price of a newer (or the same) version."""
    incoming = CataloguePrice.of(cause.data)
    current = uow.prices.get(incoming.product_id)
    if newest(current, incoming) is not incoming:
        logger.info("older price ignored", product_id=incoming.product_id, version=incoming.version)
        return
    try:
        with uow.reacting_to(cause) as step:
            step.prices.record(incoming)
    except PriceSuperseded:
        # A newer version was written between our read and our write: it stays.
        logger.info("price superseded meanwhile", product_id=incoming.product_id, version=incoming.version)
        return
    logger.info("price recorded", product_id=incoming.product_id, price=str(incoming.price), version=incoming.version)

"""Operators' writes to the catalogue: set a product (create, or replace the version they read) and
restock it atomically; every set emits ProductPriced (with the product's version, so that copies keep the
newest), in the same commit, so a `PUT` of the same values re-announces a price a copy lost.

Triggered by `PUT /products/{productId}` and `POST /products/{productId}/restock` (IAM-signed). A
product's version moves on with every change, reservations included, so a `PUT` with the ETag an
operator read never overwrites stock reserved since, and a `PUT` that changes an existing product's stock
must name that ETag; a restock adds to whatever is free now.
"""

from __future__ import annotations

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.models.errors import PreconditionRequired, ProductNotFound, StockLimit, VersionMismatch
from inventory.models.stock import Product, ProductUpdate
from shared.errors import StockChangedConcurrently
from shared.observability import logger
from shop_contracts.inventory import ProductPriced


def set_product(product_id: str, update: ProductUpdate, *, if_match: str | None, uow: InventoryUnitOfWork) -> Product:
    """Create the product, or replace it if it is still the version the operator read (`if_match`,
    an ETag; None replaces its name and price whatever is there now, but still never a version written in
    between, and may not change its stock). Announces the product's price, changed or not.

    Raises
    ------
    VersionMismatch
        When `if_match` is not the product's current ETag (or names a product that does not exist).
    PreconditionRequired
        When it would change an existing product's stock without `if_match`.
    StockChangedConcurrently
        When the product changed between our read and our write (no `if_match`): try again.
    """
    current = uow.products.get(product_id)
    if if_match is not None and (current is None or if_match not in (current.etag, "*")):
        raise VersionMismatch(product_id, current.etag if current else None)
    if if_match is None and current is not None and current.available != update.available:
        raise PreconditionRequired(product_id, current.etag)
    product = Product(
        product_id=product_id,
        name=update.name,
        price=update.price,
        available=update.available,
        version=current.version + 1 if current else 1,
    )
    try:
        with uow.starting(product_id) as step:
            step.products.save(product, replacing=current)
            # Every set, changed or not: a PUT of the same values is how an operator re-announces a price.
            step.emit(
                ProductPriced(product_id=product_id, name=product.name, price=product.price, version=product.version)
            )
    except StockChangedConcurrently:
        if if_match is not None:
            latest = uow.products.get(product_id)
            raise VersionMismatch(product_id, latest.etag if latest else None) from None
        raise
    logger.info("product set", product_id=product_id, available=product.available, version=product.version)
    return product


def restock(product_id: str, quantity: int, *, uow: InventoryUnitOfWork) -> Product:
    """Add `quantity` units to what is free now, in one conditional write.

    Raises
    ------
    ProductNotFound
        For an unknown product.
    StockLimit
        When the stock would go above the most a product may hold.
    """
    try:
        with uow.starting(product_id) as step:
            step.products.restock(product_id, quantity)
    except StockLimit:
        if uow.products.get(product_id) is None:
            raise ProductNotFound(product_id) from None
        raise
    product = uow.products.get(product_id)
    assert product is not None
    logger.info("product restocked", product_id=product_id, added=quantity, available=product.available)
    return product

"""What can go wrong in the inventory service, on purpose."""

from __future__ import annotations

from shared.errors import ShopError


class OutOfStock(ShopError):
    """A line asks for more units than the product has free (or the product is unknown)."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"not enough units of {product_id}")
        self.product_id = product_id


class ProductMissing(ShopError):
    """Units cannot go back to a product that no longer exists; operators must act."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id} does not exist, so its units cannot be returned")
        self.product_id = product_id


class ProductNotFound(ShopError):
    """No product has this id."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id} does not exist")
        self.product_id = product_id


class VersionMismatch(ShopError):
    """The product changed since the caller read it (its ETag no longer matches If-Match)."""

    def __init__(self, product_id: str, current: str | None) -> None:
        super().__init__(f"product {product_id} changed since it was read; its ETag is now {current or 'none'}")
        self.product_id = product_id
        self.current = current


class PreconditionRequired(ShopError):
    """A PUT would set an existing product's stock without naming the version it read (If-Match)."""

    def __init__(self, product_id: str, current: str) -> None:
        super().__init__(
            f"setting the stock of {product_id} needs If-Match with the ETag you read (now {current}), so that "
            "units reserved since are not overwritten; or POST /products/{productId}/restock to add units"
        )
        self.product_id = product_id
        self.current = current


class StockLimit(ShopError):
    """A restock would take the stock above the most a product may hold."""

    def __init__(self, product_id: str, limit: int) -> None:
        super().__init__(f"restocking {product_id} would take its stock above {limit}")
        self.product_id = product_id

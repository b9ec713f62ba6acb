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

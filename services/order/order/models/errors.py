"""What can go wrong in the order service, on purpose."""

from __future__ import annotations

from decimal import Decimal

from shared.errors import ShopError


class OrderNotFound(ShopError):
    """No order has this id."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} does not exist")
        self.order_id = order_id


class OrderAlreadyFinal(ShopError):
    """The order is confirmed or cancelled and can no longer change."""

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"order {order_id} is already {status}")
        self.order_id = order_id
        self.status = status


class DeadlineNotReached(ShopError):
    """A deadline arrived before its time; it is tried again later."""

    def __init__(self, order_id: str, deadline: str) -> None:
        super().__init__(f"order {order_id} is not due until {deadline}")
        self.order_id = order_id
        self.deadline = deadline


class IdempotencyKeyReused(ShopError):
    """The Idempotency-Key was first used with a different body."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request body")
        self.key = key


class IdempotencyKeyInFlight(ShopError):
    """Another request with the same Idempotency-Key is being committed right now; its answer is not kept yet."""

    def __init__(self, key: str) -> None:
        super().__init__(f"a request with Idempotency-Key {key!r} is still being processed")
        self.key = key


class IdempotencyKeyTaken(ShopError):
    """A live response is already stored under this Idempotency-Key (a concurrent request won)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} is taken")
        self.key = key


class UnknownProducts(ShopError):
    """Lines name products the order service's catalogue does not know (or does not know yet)."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(lines)} line(s) name products the catalogue does not know")
        self.lines = lines


class TotalMismatch(ShopError):
    """The client's `totalAmount` is not what the order costs at the catalogue's current prices."""

    def __init__(self, sent: Decimal, total: Decimal) -> None:
        super().__init__(
            f"totalAmount {sent:.2f} does not match the order's total {total:.2f} at the current prices; "
            f"send {total:.2f} or leave totalAmount out"
        )
        self.sent = sent
        self.total = total


class TotalTooLarge(ShopError):
    """The order's total is above the most one payment may be."""

    def __init__(self, total: Decimal) -> None:
        super().__init__(f"the order's total {total:.2f} is above the most one order may cost (9999999999.99)")
        self.total = total


class PriceSuperseded(ShopError):
    """The catalogue copy already holds this product's price at this or a newer version."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"the price of {product_id} was already superseded")
        self.product_id = product_id

"""What can go wrong in the order service, on purpose."""

from __future__ import annotations

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


class IdempotencyKeyTaken(ShopError):
    """A live response is already stored under this Idempotency-Key (a concurrent request won)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} is taken")
        self.key = key

"""The small hierarchy of errors our code raises on purpose; handlers map them at the edges.

Three families matter to a consumer: `MalformedEvent` (never retried: parked with its reason),
`DuplicateEvent` (already applied: acknowledged), and `ChangedConcurrently` (a guarded write lost a
race: the delivery is retried and sees the new state). Everything else is retried, then dead-lettered.
"""

from __future__ import annotations

from typing import Any

# The contract's own error, raised when an event does not fit it: part of this hierarchy's first family.
from shop_contracts.errors import MalformedEvent

__all__ = [
    "ChangedConcurrently",
    "ConfigurationError",
    "DuplicateEvent",
    "EventPublishError",
    "MalformedEvent",
    "OrderChangedConcurrently",
    "PaymentChangedConcurrently",
    "ReservationChangedConcurrently",
    "SagaChangedConcurrently",
    "ShopError",
    "StockChangedConcurrently",
    "WriteContention",
]


class ShopError(Exception):
    """Base for errors our code raises on purpose."""


class ConfigurationError(ShopError):
    """The function's environment is missing or has invalid settings."""


class DuplicateEvent(ShopError):
    """The consumer already applied this event id; nothing more to do."""


class ChangedConcurrently(ShopError):
    """A guarded write found its item changed since it was read; a retry sees the new state."""

    what = "item"

    def __init__(self, key: str) -> None:
        super().__init__(f"{self.what} {key} changed concurrently")
        self.key = key


class OrderChangedConcurrently(ChangedConcurrently):
    """The order moved on (confirmed, cancelled, or created) between our read and our write."""

    what = "order"


class PaymentChangedConcurrently(ChangedConcurrently):
    """The payment record changed between our read and our write."""

    what = "payment of order"


class ReservationChangedConcurrently(ChangedConcurrently):
    """The reservation record changed between our read and our write."""

    what = "reservation of order"


class StockChangedConcurrently(ChangedConcurrently):
    """A product's stock or version changed between our read and our write."""

    what = "stock of product"


class SagaChangedConcurrently(ChangedConcurrently):
    """Another event of the same saga was projected between our read and our write."""

    what = "saga"


class WriteContention(ShopError):
    """DynamoDB cancelled a transaction for a reason other than a condition (a concurrent transaction on
    the same item, throttling): nothing was written, and the step is simply retried."""


class EventPublishError(ShopError):
    """PutEvents rejected entries even after re-sending them; the others were published."""

    def __init__(self, failed_entries: list[dict[str, Any]], rejected: dict[int, str] | None = None) -> None:
        super().__init__(f"{len(failed_entries)} event(s) rejected by EventBridge: {failed_entries[:3]}")
        self.failed_entries = failed_entries
        # Each still rejected entry's position among those given to put_entries, with EventBridge's reason.
        self.rejected = rejected or {}

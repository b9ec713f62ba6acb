"""The small hierarchy of errors our code raises on purpose; handlers map them at the edges."""

from __future__ import annotations

from typing import Any


class ShopError(Exception):
    """Base for errors our code raises on purpose."""


class MalformedEvent(ShopError):
    """An event that can never be processed as it is (bad JSON, unknown type or version, invalid field)."""


class DuplicateEvent(ShopError):
    """The consumer already applied this event id; nothing more to do."""


class TransactionConflict(ShopError):
    """A condition in a DynamoDB transaction failed; `failed` names the labels of the failing items."""

    def __init__(self, failed: list[str]) -> None:
        super().__init__(f"transaction conditions failed: {', '.join(failed)}")
        self.failed = failed


class EventPublishError(ShopError):
    """PutEvents rejected entries even after re-sending them; the stream batch must be retried."""

    def __init__(self, failed_entries: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(failed_entries)} event(s) rejected by EventBridge: {failed_entries[:3]}")
        self.failed_entries = failed_entries

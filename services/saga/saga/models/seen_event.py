"""What the projector keeps of one event it has seen: the fold's input and the saga item's content."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SeenEvent(TypedDict):
    """One seen event: its kind, id and time (the view's timeline entry), and what the view needs beside."""

    type: str
    eventId: str
    occurredAt: str
    reason: NotRequired[str]  # a cancellation's or a decline's reason, a compensation failure's code
    step: NotRequired[str]  # which compensation failed (refund_payment, release_inventory)
    deadline: NotRequired[str]  # the order's deadline (OrderCreated)

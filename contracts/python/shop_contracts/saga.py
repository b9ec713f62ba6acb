"""The saga projector's read model: the view of one saga, as the projector publishes it to readers.

The projector owns its table; this module is the contract of what readers (the order API, operators'
tools) may rely on: the key of a saga's item, the attribute holding its view, and the view's shape.
"""

from typing import Literal

from pydantic import Field

from shop_contracts.base import WireModel

SagaStatus = Literal[
    "STARTED",
    "PAYMENT_PROCESSED",
    "INVENTORY_RESERVED",
    "COMPLETED",
    "COMPENSATING",
    "CANCELLED",
    "COMPENSATION_FAILED",
]
TERMINAL_SAGA_STATUSES: frozenset[str] = frozenset({"COMPLETED", "CANCELLED", "COMPENSATION_FAILED"})
VIEW_ATTRIBUTE = "view"

# The sagas that need attention, as a sparse index of the projector's table (operators' tools query it):
# `OPEN` while a saga is not final, at its deadline; `FAILED` while a compensation failed, since when.
# A settled saga has neither attribute, so it is not in the index.
ATTENTION_INDEX = "ByAttention"
ATTENTION_ATTRIBUTE = "attention"
ATTENTION_AT_ATTRIBUTE = "attentionAt"
Attention = Literal["OPEN", "FAILED"]


def saga_key(saga_id: str) -> dict[str, str]:
    """The key of a saga's item in the projector's table."""
    return {"pk": f"SAGA#{saga_id}"}


class SagaStep(WireModel):
    """One service's part in the saga: where it got to, and when."""

    name: Literal["order", "payment", "inventory"]
    status: str
    at: str


class TimelineEntry(WireModel):
    """One event of the saga."""

    type: str
    event_id: str
    occurred_at: str


class SagaView(WireModel):
    """Where a saga stands, folded from its events; the same whatever order they arrived in."""

    status: SagaStatus
    failure_reason: str | None = None
    # The order's deadline, once its OrderCreated was seen: past it (plus slack) an open saga is stuck.
    deadline: str | None = None
    steps: tuple[SagaStep, ...] = Field(default=())
    timeline: tuple[TimelineEntry, ...] = Field(default=())

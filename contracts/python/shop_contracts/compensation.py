"""The event a service publishes when one of its compensations keeps failing: operators must act."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shop_contracts.base import APP_NAME, DomainEvent, OrderId

_SERVICE_OF_STEP = {"refund_payment": "payment", "release_inventory": "inventory"}


class CompensationFailed(DomainEvent):
    """A refund or a release was retried and still failed; the saga shows COMPENSATION_FAILED."""

    service: ClassVar[str] = "payment"
    order_id: OrderId
    step: Literal["refund_payment", "release_inventory"]
    reason: str = Field(min_length=1)

    def source(self) -> str:
        """The service that owns the failed step is the one that says so."""
        return f"{APP_NAME}.{_SERVICE_OF_STEP[self.step]}"

    @classmethod
    def allowed_sources(cls) -> frozenset[str]:
        """Payment or inventory, whichever owns the step."""
        return frozenset(f"{APP_NAME}.{service}" for service in _SERVICE_OF_STEP.values())

"""The event a service publishes when one of its compensations keeps failing: operators must act."""

from typing import ClassVar, Literal, Self, get_args

from pydantic import Field

from shop_contracts.base import APP_NAME, DomainEvent, OrderId

_SERVICE_OF_STEP = {"refund_payment": "payment", "release_inventory": "inventory"}

CompensationFailureCode = Literal[
    "refund_rejected", "refund_failed", "charge_outcome_unknown", "product_missing", "release_failed", "dead_lettered"
]
"""Why a compensation failed: a closed set, never an error's text (that is logged beside the message id)."""

FAILURE_CODE_MEANS: dict[CompensationFailureCode, str] = {
    "refund_rejected": "The payment provider refused the refund. Redrive the message after settling it with them.",
    "refund_failed": "The refund could not be made (the provider unreachable, an error of ours): see the "
    "service's log for the message id, fix, redrive.",
    "charge_outcome_unknown": "The charge's answer never came back, so whether money was taken is not known: "
    "look the charge up at the provider by its idempotency key (the order id) and refund it there if it was taken.",
    "product_missing": "The units cannot go back: the product no longer exists. Re-create it, then redrive.",
    "release_failed": "The release could not be made (an error of ours): see the service's log, fix, redrive.",
    "dead_lettered": "Every delivery of the compensation failed without reporting why (a timeout, a crash): "
    "its message waits in the dead-letter queue (`shopctl dlq show`); fix, redrive.",
}
"""What each code means, and what an operator does about it (docs/events.md)."""
COMPENSATION_FAILURE_CODES: frozenset[str] = frozenset(get_args(CompensationFailureCode))


class CompensationFailed(DomainEvent):
    """A refund or a release was retried and still failed; the saga shows COMPENSATION_FAILED."""

    service: ClassVar[str] = "payment"
    order_id: OrderId
    step: Literal["refund_payment", "release_inventory"]
    reason: str = Field(
        min_length=1,
        description="The reasonCode, for readers of the first contract; events published before reasonCode "
        "existed may carry an error's text here.",
    )
    reason_code: CompensationFailureCode | None = Field(
        default=None,
        description="Why, from a closed set (docs/events.md, Compensation failure codes); absent only in events "
        "published before it existed.",
    )

    @classmethod
    def because(cls, order_id: str, step: Literal["refund_payment", "release_inventory"],
                code: CompensationFailureCode) -> Self:  # fmt: skip
        """The event for a failure with this code (in both fields)."""
        return cls(order_id=order_id, step=step, reason=code, reason_code=code)

    def code(self) -> str:
        """The failure's code: reasonCode, or `reason` if it is one (older events), else `unspecified`."""
        if self.reason_code is not None:
            return self.reason_code
        return self.reason if self.reason in COMPENSATION_FAILURE_CODES else "unspecified"

    def source(self) -> str:
        """The service that owns the failed step is the one that says so."""
        return f"{APP_NAME}.{_SERVICE_OF_STEP[self.step]}"

    @classmethod
    def allowed_sources(cls) -> frozenset[str]:
        """Payment or inventory, whichever owns the step."""
        return frozenset(f"{APP_NAME}.{service}" for service in _SERVICE_OF_STEP.values())

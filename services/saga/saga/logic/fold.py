"""The saga view as a pure function of the *set* of a saga's events.

Because the view depends only on which events were seen (never on the order they arrived in, nor on how
often), any permutation or duplication of a saga's events gives the same view: the projector is a
commutative, idempotent fold. It records; it never decides or commands.
"""

from __future__ import annotations

from typing import Literal

from saga.models.seen_event import SeenEvent
from shop_contracts.base import DomainEvent
from shop_contracts.compensation import COMPENSATION_FAILURE_CODES, CompensationFailed
from shop_contracts.envelope import Envelope
from shop_contracts.saga import TERMINAL_SAGA_STATUSES, Attention, SagaStatus, SagaStep, SagaView, TimelineEntry

# Per step, the statuses an event can give it, strongest first: a later stage wins whatever the arrival
# order, so the view never moves backwards.
StepName = Literal["order", "payment", "inventory"]
STEPS: dict[StepName, list[tuple[str, str]]] = {
    "order": [
        ("OrderConfirmed", "CONFIRMED"),
        ("OrderCancelled", "CANCELLED"),
        ("OrderCreated", "PENDING"),
    ],
    "payment": [
        # A refund that succeeded (after a redrive) outranks its earlier failure.
        ("PaymentRefunded", "REFUNDED"),
        ("PaymentVoided", "VOIDED"),
        ("CompensationFailed:refund_payment", "REFUND_FAILED"),
        ("PaymentProcessed", "CHARGED"),
        ("PaymentFailed", "DECLINED"),
    ],
    "inventory": [
        ("InventoryReleased", "RELEASED"),
        ("CompensationFailed:release_inventory", "RELEASE_FAILED"),
        ("InventoryReserved", "RESERVED"),
        ("InventoryFailed", "FAILED"),
    ],
}


def seen_event(envelope: Envelope[DomainEvent]) -> SeenEvent:
    """The part of an event the view is built from."""
    seen: SeenEvent = {
        "type": envelope.data.detail_type(),
        "eventId": envelope.metadata.event_id,
        "occurredAt": envelope.metadata.to_wire()["occurredAt"],
    }
    if (reason := getattr(envelope.data, "reason", None)) is not None:
        seen["reason"] = str(reason)
    if (step := getattr(envelope.data, "step", None)) is not None:
        seen["step"] = str(step)
    if isinstance(envelope.data, CompensationFailed):
        # Only its code reaches the view (and customers): never an error's text an older event carried.
        seen["reason"] = envelope.data.code()
    if getattr(envelope.data, "deadline", None) is not None:
        seen["deadline"] = envelope.data.to_wire()["deadline"]
    return seen


def saga_view(events: list[SeenEvent]) -> SagaView:
    """The view of one saga: status, failure reason, each step with its time, and the timeline."""
    by_kind: dict[str, SeenEvent] = {}
    for event in sorted(events, key=lambda e: (e["occurredAt"], e["eventId"])):
        kind = event["type"] + (f":{event['step']}" if "step" in event else "")
        by_kind.setdefault(kind, event)  # the earliest of a kind, should a kind repeat
    return SagaView(
        status=_status(by_kind),
        failure_reason=_failure_reason(by_kind),
        deadline=by_kind["OrderCreated"].get("deadline") if "OrderCreated" in by_kind else None,
        steps=_steps(by_kind),
        timeline=tuple(
            TimelineEntry(type=e["type"], event_id=e["eventId"], occurred_at=e["occurredAt"])
            for e in sorted(events, key=lambda e: (e["occurredAt"], e["eventId"]))
        ),
    )


# A failed compensation and the events that show it done after all (a redrive after a fix), or moot (a charge
# whose outcome was unknown when the refund gave up, and which was then voided without taking money).
_RESOLVED_BY = {
    "CompensationFailed:refund_payment": ("PaymentRefunded", "PaymentVoided"),
    "CompensationFailed:release_inventory": ("InventoryReleased",),
}


def _unresolved_failures(by_kind: dict[str, SeenEvent]) -> list[str]:
    # A refund reported impossible while the charge was still undecided is moot once the charge was declined:
    # nothing was taken (a charge whose outcome stays unknown is declined too, but not decided).
    nothing_taken = (
        "PaymentFailed" in by_kind
        and by_kind["PaymentFailed"].get("reason") != OUTCOME_UNKNOWN
        and "PaymentProcessed" not in by_kind
    )
    return [
        failure
        for failure, done in _RESOLVED_BY.items()
        if failure in by_kind
        and not any(kind in by_kind for kind in done)
        and not (failure == REFUND_FAILURE and nothing_taken)
    ]


REFUND_FAILURE = "CompensationFailed:refund_payment"
OUTCOME_UNKNOWN = "payment_outcome_unknown"  # PaymentFailed's reason for a charge nobody knows the outcome of


def _status(by_kind: dict[str, SeenEvent]) -> SagaStatus:
    seen = {kind.split(":")[0] for kind in by_kind}
    if _unresolved_failures(by_kind):
        return "COMPENSATION_FAILED"
    if "OrderConfirmed" in seen:
        return "COMPLETED"
    holds_money = "PaymentProcessed" in seen and "PaymentRefunded" not in seen
    holds_stock = "InventoryReserved" in seen and "InventoryReleased" not in seen
    if "OrderCancelled" in seen:
        return "COMPENSATING" if holds_money or holds_stock else "CANCELLED"
    if seen & {"PaymentFailed", "InventoryFailed"}:
        return "COMPENSATING"
    if "InventoryReserved" in seen:
        return "INVENTORY_RESERVED"
    if "PaymentProcessed" in seen:
        return "PAYMENT_PROCESSED"
    return "STARTED"


def _failure_reason(by_kind: dict[str, SeenEvent]) -> str | None:
    for kind in _unresolved_failures(by_kind):
        # A code (an item written before codes may hold an error's text: it is not shown).
        code = str(by_kind[kind].get("reason"))
        return f"compensation_failed: {code if code in COMPENSATION_FAILURE_CODES else 'unspecified'}"
    if "OrderCancelled" in by_kind:
        return str(by_kind["OrderCancelled"].get("reason"))
    if "PaymentFailed" in by_kind:
        return "payment_declined"
    if "InventoryFailed" in by_kind:
        return "out_of_stock"
    return None


def _steps(by_kind: dict[str, SeenEvent]) -> tuple[SagaStep, ...]:
    steps = []
    for name, ladder in STEPS.items():
        for kind, status in ladder:
            if kind in by_kind:
                steps.append(SagaStep(name=name, status=status, at=by_kind[kind]["occurredAt"]))
                break
    return tuple(steps)


def attention(view: SagaView) -> tuple[Attention, str] | None:
    """Whether the saga needs an operator's eye, and the time to sort it by (stalest first): an open saga
    by its deadline (its first event's time until OrderCreated is seen), a failed compensation by when
    it failed; None once settled. A function of the view, so as order-insensitive as the view."""
    if view.status == "COMPENSATION_FAILED":
        return "FAILED", max(e.occurred_at for e in view.timeline if e.type == "CompensationFailed")
    if view.status not in TERMINAL_SAGA_STATUSES:
        return "OPEN", view.deadline or min(e.occurred_at for e in view.timeline)
    return None

"""The projector's fold: a commutative, idempotent function from a saga's events to its view."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from saga.logic.fold import saga_view, seen_event
from shop_contracts.compensation import CompensationFailed
from shop_contracts.envelope import Envelope
from tests.support.sagas import (
    CANCELLED_DECLINED,
    CANCELLED_OOS,
    CHARGED,
    CONFIRMED,
    CREATED,
    DECLINED,
    LATE_REFUND,
    REFUND_FAILED,
    REFUNDED,
    RELEASED,
    RESERVED,
    SHORT,
    TIMED_OUT,
    at,
)


def view(*events: Envelope[Any]) -> dict[str, Any]:
    return saga_view([seen_event(event) for event in events]).to_wire()


@pytest.mark.parametrize(
    ("events", "status", "reason"),
    [
        ((CREATED,), "STARTED", None),
        ((CREATED, CHARGED), "PAYMENT_PROCESSED", None),
        ((CREATED, CHARGED, RESERVED), "INVENTORY_RESERVED", None),
        ((CREATED, CHARGED, RESERVED, CONFIRMED), "COMPLETED", None),
        ((CREATED, DECLINED), "COMPENSATING", "payment_declined"),
        ((CREATED, DECLINED, CANCELLED_DECLINED), "CANCELLED", "payment_declined"),
        ((CREATED, CHARGED, SHORT), "COMPENSATING", "out_of_stock"),
        ((CREATED, CHARGED, SHORT, CANCELLED_OOS), "COMPENSATING", "out_of_stock"),
        ((CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS), "CANCELLED", "out_of_stock"),
        ((CREATED, CHARGED, RESERVED, TIMED_OUT, REFUNDED), "COMPENSATING", "timeout"),
        ((CREATED, CHARGED, RESERVED, TIMED_OUT, REFUNDED, RELEASED), "CANCELLED", "timeout"),
        ((CREATED, CHARGED, TIMED_OUT, REFUND_FAILED), "COMPENSATION_FAILED", "compensation_failed: refund_rejected"),
    ],
)
def test_the_view_follows_the_saga(events: tuple[Envelope[Any], ...], status: str, reason: str | None) -> None:
    result = view(*events)
    assert (result["status"], result["failureReason"]) == (status, reason)
    assert [entry["type"] for entry in result["timeline"]] == [event.data.detail_type() for event in events]


def test_steps_show_each_service_with_its_time() -> None:
    steps = view(CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS)["steps"]
    assert steps == [
        {"name": "order", "status": "CANCELLED", "at": "2026-11-22T10:00:04Z"},
        {"name": "payment", "status": "REFUNDED", "at": "2026-11-22T10:00:03Z"},
        {"name": "inventory", "status": "FAILED", "at": "2026-11-22T10:00:02Z"},
    ]


def test_any_order_of_arrival_gives_the_same_view() -> None:
    events = (CREATED, CHARGED, RESERVED, TIMED_OUT, REFUNDED, RELEASED)
    expected = view(*events)
    for permutation in itertools.permutations(events):
        assert view(*permutation) == expected


def test_a_compensation_that_succeeds_after_its_failure_clears_the_failure_in_any_order() -> None:
    redriven = (CREATED, CHARGED, TIMED_OUT, REFUND_FAILED, LATE_REFUND)
    expected = view(*redriven)

    assert (expected["status"], expected["failureReason"]) == ("CANCELLED", "timeout")
    assert {"name": "payment", "status": "REFUNDED", "at": "2026-11-22T10:00:07Z"} in expected["steps"]
    assert [entry["type"] for entry in expected["timeline"]][-2:] == ["CompensationFailed", "PaymentRefunded"]
    for permutation in itertools.permutations(redriven):
        assert view(*permutation) == expected


def test_an_older_compensation_failure_shows_no_error_text_only_unspecified() -> None:
    # Before reason codes, CompensationFailed.reason carried an exception's text (a table ARN, a provider's
    # body): the view, which customers see, shows no such text.
    leaky = CompensationFailed(order_id="o-1", step="refund_payment", reason="AccessDenied: arn:aws:iam::123:role/x")
    old = at(6, leaky)

    view = saga_view([seen_event(e) for e in (CREATED, CHARGED, TIMED_OUT, old)])

    assert view.failure_reason == "compensation_failed: unspecified"
    assert "arn:aws" not in view.model_dump_json()

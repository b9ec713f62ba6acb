"""Faults injected while orders flow; the checker must find every invariant of the design intact."""

from __future__ import annotations

import os

import pytest

from tests.support.faults.driver import FaultSuite

ORDERS = 20


def test_the_saga_keeps_its_invariants_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    report = FaultSuite(os.environ["AWS_SAM_STACK_NAME"], orders=ORDERS, seed=11).run()

    with capsys.disabled():
        print("\n" + report.render())
    assert report.orders == ORDERS
    for kind in (
        "duplicate_concurrent",
        "duplicate_late",
        "poison_events",
        "out_of_order_feeds",
        "consumer_outage_failures",
        "consumer_outage_windows",
        "relay_outage_windows",
        "relay_outage_failures",
        "put_events_partial_failures",
    ):
        assert report.injected[kind] > 0, f"no {kind} were injected"
    assert report.injected["crash_before_publish"] + report.injected["crash_after_publish"] > 0
    assert report.violations == []

"""The test-only fault switchboard: silent unless enabled, and counting every fault it injects."""

from __future__ import annotations

import time

import boto3
import pytest

from shared import faults
from shared.faults import InjectedFault
from tests.unit.conftest import Tables


@pytest.fixture
def enabled(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> Tables:
    monkeypatch.setenv("FAULT_INJECTION", "true")
    monkeypatch.setenv("FAULT_TABLE_NAME", tables.payment.name)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stack-PaymentOnOrderCreatedFunction-ABC")
    faults.fault_settings.cache_clear()
    return tables


def plan(tables: Tables, **plan: object) -> None:
    boto3.resource("dynamodb").Table(tables.payment.name).put_item(Item={"pk": "FAULTS", "plan": plan})


def test_nothing_is_injected_unless_enabled(tables: Tables) -> None:
    faults.fault_settings.cache_clear()
    plan(tables, relayCrashRate=1, outages={"PaymentOnOrderCreated": [0, int(time.time()) + 60]})
    faults.crash_relay("before_publish")
    faults.fail_if_in_outage()


def test_a_consumer_fails_inside_its_outage_window_only(enabled: Tables) -> None:
    now = int(time.time())
    plan(enabled, outages={"PaymentOnOrderCreated": [now - 1, now + 60], "InventoryOnOrderCancelled": [0, now + 60]})
    with pytest.raises(InjectedFault):
        faults.fail_if_in_outage()
    assert enabled.payment.item("FAULTS")["consumer_outage_failures"] == 1  # type: ignore[index]
    plan(enabled, outages={"PaymentOnOrderCreated": [now + 30, now + 60]})
    faults.fail_if_in_outage()


def test_the_relay_crashes_at_the_planned_rate_and_counts(enabled: Tables) -> None:
    plan(enabled, relayCrashRate=1)
    crashes = 0
    for _ in range(40):
        try:
            faults.crash_relay("before_publish")
        except InjectedFault:
            crashes += 1
    assert 8 < crashes < 32  # each stage takes half the rate
    assert enabled.payment.item("FAULTS")["crash_before_publish"] == crashes  # type: ignore[index]

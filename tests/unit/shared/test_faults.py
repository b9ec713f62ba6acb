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
    plan(tables, relayCrashRate=1, outages={"PaymentOnOrderCreated": 60})
    faults.crash_relay("before_publish")
    faults.fail_if_in_outage()


def test_a_consumer_is_down_from_its_first_batch_for_the_planned_seconds(enabled: Tables) -> None:
    plan(enabled, outages={"PaymentOnOrderCreated": 60, "InventoryOnOrderCancelled": 60})
    for _ in range(2):
        with pytest.raises(InjectedFault):
            faults.fail_if_in_outage()
    item = enabled.payment.item("FAULTS")
    assert item is not None and item["consumer_outage_failures"] == 2
    assert abs(int(item["outage_started_PaymentOnOrderCreated"]) - time.time()) < 5


def test_a_consumer_recovers_when_its_outage_is_over(enabled: Tables) -> None:
    plan(enabled, outages={"PaymentOnOrderCreated": 5})
    boto3.resource("dynamodb").Table(enabled.payment.name).update_item(
        Key={"pk": "FAULTS"},
        UpdateExpression="SET outage_started_PaymentOnOrderCreated = :t",
        ExpressionAttributeValues={":t": int(time.time()) - 60},
    )
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

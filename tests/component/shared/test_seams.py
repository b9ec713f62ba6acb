"""The test seams: silent unless a test stack switches them on, then counting every fault they inject."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import boto3
import pytest

from shared import environment, seams
from shared.errors import EventPublishError
from shared.publisher import EventBridgePublisher
from shared.storage import Put, absent, invariant
from shared.storage.dynamodb import DynamoTable
from shared.testing.faults import CrashingPublisher, FaultPlan, InjectedFault, OutageTable, PartlyFailingEvents
from shared.testing.guards import UnguardedTable
from tests.component.conftest import CapturedBus, Tables

PLAN_TABLE = "test-seams"


@pytest.fixture
def plan_table(tables: Tables) -> Iterator[Any]:
    boto3.client("dynamodb").create_table(
        TableName=PLAN_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield boto3.resource("dynamodb").Table(PLAN_TABLE)


@pytest.fixture
def switched_on(plan_table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("FAULT_INJECTION", "true")
    monkeypatch.setenv("TEST_SEAMS_TABLE_NAME", PLAN_TABLE)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stack-PaymentOnOrderCreatedFunction-ABC")
    environment.reset()
    yield plan_table
    environment.reset()


class Published:
    def __init__(self) -> None:
        self.calls = 0

    def put_entries(self, entries: Any) -> int:
        self.calls += 1
        return len(entries)


def plan(table: Any, **plan: object) -> None:
    table.put_item(Item={"pk": "FAULTS", "plan": plan})


def test_a_production_stack_gets_its_ports_as_they_are(tables: Tables, plan_table: Any) -> None:
    environment.reset()
    plan(plan_table, relayCrashRate=1, outages={"PaymentOnOrderCreated": 60})
    table = DynamoTable(boto3.client("dynamodb"), tables.payment.name)
    publisher = Published()

    assert seams.table(table) is table
    assert seams.publisher(publisher) is publisher
    assert seams.gateway(publisher) is publisher


def test_a_consumer_is_down_from_its_first_call_for_the_planned_seconds(tables: Tables, switched_on: Any) -> None:
    plan(switched_on, outages={"PaymentOnOrderCreated": 60, "InventoryOnOrderCancelled": 60})
    table = seams.table(DynamoTable(boto3.client("dynamodb"), tables.payment.name))
    assert isinstance(table, OutageTable)

    for _ in range(2):
        with pytest.raises(InjectedFault):
            table.get({"pk": "PAYMENT#o-1"})
    item = switched_on.get_item(Key={"pk": "FAULTS"})["Item"]
    assert item["consumer_outage_failures"] == 2
    assert abs(int(item["outage_started_PaymentOnOrderCreated"]) - time.time()) < 5


def test_a_consumer_recovers_when_its_outage_is_over(tables: Tables, switched_on: Any) -> None:
    plan(switched_on, outages={"PaymentOnOrderCreated": 5})
    switched_on.update_item(
        Key={"pk": "FAULTS"},
        UpdateExpression="SET outage_started_PaymentOnOrderCreated = :t",
        ExpressionAttributeValues={":t": int(time.time()) - 60},
    )
    table = OutageTable(
        DynamoTable(boto3.client("dynamodb"), tables.payment.name),
        FaultPlan(PLAN_TABLE, "x-PaymentOnOrderCreatedFunction-1"),
    )
    assert table.get({"pk": "PAYMENT#o-1"}) is None


def test_the_relay_crashes_at_the_planned_rate_and_counts(switched_on: Any) -> None:
    plan(switched_on, relayCrashRate=1)
    inner = Published()
    publisher = seams.publisher(inner)
    assert isinstance(publisher, CrashingPublisher)
    crashes = 0
    for _ in range(40):
        try:
            publisher.put_entries([{"Detail": "x"}])
        except InjectedFault:
            crashes += 1
    assert 8 < crashes < 40
    item = switched_on.get_item(Key={"pk": "FAULTS"})["Item"]
    assert item.get("crash_before_publish", 0) + item.get("crash_after_publish", 0) == crashes


def test_without_guards_a_guarded_write_applies_twice_and_others_keep_their_condition(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCE_ONLY_GUARDS", "false")
    environment.reset()
    table = seams.table(DynamoTable(boto3.client("dynamodb"), tables.payment.name))
    assert isinstance(table, UnguardedTable)

    for _ in range(2):
        table.write([Put({"pk": "PAYMENT#o-1"}, condition=invariant("one_charge_per_order", absent()))])
    table.write([Put({"pk": "OUTBOX#e-1"}, condition=absent())])
    with pytest.raises(Exception, match="changed"):
        table.write([Put({"pk": "OUTBOX#e-1"}, condition=absent())])
    environment.reset()


def test_putevents_partial_failures_are_resent_until_every_entry_is_in(bus: CapturedBus, switched_on: Any) -> None:
    plan(switched_on, putEventsFailureRate=1)
    events = boto3.client("events")
    client: Any = seams.events_client(events)
    assert isinstance(client, PartlyFailingEvents)
    entries = [
        {"EventBusName": "test-bus", "Source": "shop.order", "DetailType": "T", "Detail": json.dumps({"n": n})}
        for n in range(6)
    ]

    with pytest.raises(EventPublishError) as still_rejected:  # one entry rejected on every try
        EventBridgePublisher(cast(Any, client), backoff_seconds=0).put_entries(entries)
    assert switched_on.get_item(Key={"pk": "FAULTS"})["Item"]["put_events_partial_failures"] >= 1
    plan(switched_on, putEventsFailureRate=0)  # EventBridge recovers; the stream retries the batch
    EventBridgePublisher(seams.events_client(events), backoff_seconds=0).put_entries(entries)

    received = [event["detail"]["n"] for event in bus.received()]

    assert len(still_rejected.value.failed_entries) >= 1
    assert set(received) == set(range(6))  # every entry in the end (some twice: consumers dedupe by id)


def test_a_consumers_write_commits_and_then_loses_its_answer_at_the_planned_rate(
    tables: Tables, switched_on: Any
) -> None:
    plan(switched_on, lostWriteAnswerRate=1)
    table = seams.table(DynamoTable(boto3.client("dynamodb"), tables.payment.name))

    with pytest.raises(InjectedFault, match="committed"):
        table.write([Put({"pk": "X"}, condition=absent())])

    assert tables.payment.item("X") is not None  # it did commit
    assert switched_on.get_item(Key={"pk": "FAULTS"})["Item"]["lost_write_answers"] == 1


class Provider:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse, self.calls = refuse, 0

    def charge(self, *, idempotency_key: str, token: str, amount: object) -> str:
        self.calls += 1
        return "approved"

    def refund(self, *, idempotency_key: str, amount: object) -> None:
        self.calls += 1
        if self.refuse:
            raise RuntimeError("refused")


def test_the_gateway_ledger_counts_calls_and_failures_and_loses_answers_at_the_planned_rate(
    switched_on: Any,
) -> None:
    provider = Provider(refuse=True)
    gateway = seams.gateway(provider)
    plan(switched_on, gatewayLostAnswerRate=0)
    assert gateway.charge(idempotency_key="o-1", token="t", amount=1) == "approved"
    with pytest.raises(RuntimeError):
        gateway.refund(idempotency_key="p-1", amount=1)
    time.sleep(1.1)  # the plan is cached for a second
    plan(switched_on, gatewayLostAnswerRate=1)
    with pytest.raises(InjectedFault, match="lost"):
        gateway.charge(idempotency_key="o-1", token="t", amount=1)

    ledger = {item["pk"]: item for item in switched_on.scan()["Items"] if item["pk"].startswith("GATEWAY#")}
    assert (ledger["GATEWAY#charge#o-1"]["calls"], ledger["GATEWAY#charge#o-1"]["failed"]) == (2, 1)
    assert (ledger["GATEWAY#refund#p-1"]["calls"], ledger["GATEWAY#refund#p-1"]["failed"]) == (1, 1)
    assert provider.calls == 3  # the lost answer's call took effect


def test_a_stack_that_is_not_a_simulator_approves_no_test_token(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from payment.handlers import wiring
    from payment.models.gateway import NoPaymentProvider, RefundRejected

    monkeypatch.delenv("PAYMENT_SIMULATOR", raising=False)
    environment.reset()
    gateway = wiring.wiring.gateway

    assert isinstance(gateway, NoPaymentProvider)
    decision = gateway.charge(idempotency_key="o-1", token="tok_ok", amount=Decimal("1.00"))
    assert (decision.approved, decision.reason) == (False, "no_payment_provider")
    with pytest.raises(RefundRejected):
        gateway.refund(idempotency_key="p-1", amount=Decimal("1.00"))
    environment.reset()

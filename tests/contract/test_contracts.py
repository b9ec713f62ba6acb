"""Contract tests: the sample events, the rules that route them, and the template's delivery guarantees."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from moto.events.models import EventPattern

from shop_contracts.registry import CONTRACTS, SAGA_EVENTS, parse_any
from tools.codegen import catalogue, sample_events, schemas
from tools.template import (
    TEMPLATE,
    consumer_block,
    forward_block,
    load,
    resource,
    resources_of_type,
    subscriptions,
    template,
)

EVENTS = Path(__file__).resolve().parent.parent.parent / "events"
EVENTBRIDGE_SAMPLES = sorted(
    p for folder in ("order", "payment", "inventory") for p in (EVENTS / folder).glob("*.json")
)
RULES = {consumer: parameters["EventPattern"] for consumer, parameters in subscriptions().items()}

# Which detail-types each consumer must receive: the saga's choreography, as the design draws it.
EXPECTED_ROUTES = {
    "OrderOnOrderCreated": {"OrderCreated"},
    "OrderOnPaymentFailed": {"PaymentFailed"},
    "OrderOnInventoryFailed": {"InventoryFailed"},
    "OrderOnInventoryReserved": {"InventoryReserved"},
    "OrderOnPaymentProcessed": {"PaymentProcessed"},
    "PaymentOnOrderConfirmed": {"OrderConfirmed"},
    "InventoryOnOrderConfirmed": {"OrderConfirmed"},
    "PaymentOnOrderCreated": {"OrderCreated"},
    "PaymentOnOrderCancelled": {"OrderCancelled"},
    "InventoryOnPaymentProcessed": {"PaymentProcessed"},
    "InventoryOnOrderCancelled": {"OrderCancelled"},
    "OrderOnProductPriced": {"ProductPriced"},
    "SagaOnSagaEvent": set(SAGA_EVENTS),
}


def test_events_folder_is_generated_from_the_models() -> None:
    assert sample_events.main(["--check"]) == 0


def test_every_detail_type_has_a_sample() -> None:
    assert {json.loads(p.read_text())["detail-type"] for p in EVENTBRIDGE_SAMPLES} == set(CONTRACTS)


CLEAR_TOKEN_VALUE = re.compile(r"\btok_[A-Za-z0-9_]+")
SEALED_FIELDS = {"encryptedPaymentToken"}


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def _bus_payloads() -> Iterator[tuple[str, Any]]:
    """Every generated sample of what travels on the bus or its queues (not API requests), and every schema."""
    for path in sorted(EVENTS.rglob("*.json")):
        if path.parent.name == "api":
            continue
        raw = json.loads(path.read_text())
        # SQS and stream samples carry the event as a string: look inside it too.
        inner = [json.loads(r["body"]) for r in raw.get("Records", []) if isinstance(r.get("body"), str)]
        yield str(path.relative_to(EVENTS)), [raw, *inner]
    for path in sorted(schemas.SCHEMAS.glob("*.json")):
        yield f"schemas/{path.name}", json.loads(path.read_text())


@pytest.mark.parametrize(("name", "payload"), list(_bus_payloads()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_sample_or_schema_carries_a_payment_token_in_clear(name: str, payload: Any) -> None:
    text = json.dumps(payload)
    assert not CLEAR_TOKEN_VALUE.search(text), f"{name} carries a test token in clear"
    fields = {key for key in _keys(payload) if "token" in key.lower()} - SEALED_FIELDS
    assert not fields, f"{name} has token fields other than the sealed one: {fields}"


def test_the_scan_for_clear_tokens_would_see_one() -> None:
    # The scan above must be able to fail: a payload with the old clear field is caught by both checks.
    leaked = {"detail": {"data": {"paymentToken": "tok_ok"}}}
    assert CLEAR_TOKEN_VALUE.search(json.dumps(leaked))
    assert {key for key in _keys(leaked) if "token" in key.lower()} - SEALED_FIELDS == {"paymentToken"}


def test_order_created_schema_says_the_token_is_ciphertext() -> None:
    schema = json.loads((schemas.SCHEMAS / "OrderCreated.v1.schema.json").read_text())
    sealed = schema["$defs"]["OrderCreated"]["properties"]["encryptedPaymentToken"]
    assert "KMS ciphertext" in sealed["description"] and sealed["pattern"] == "^[A-Za-z0-9+/]+={0,2}$"


@pytest.mark.parametrize("path", EVENTBRIDGE_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_event_matches_its_contract(path: Path) -> None:
    raw = json.loads(path.read_text())
    envelope = parse_any(raw)
    assert raw["source"] == envelope.data.source()
    assert raw["detail-type"] == type(envelope.data).__name__
    assert path.parent.name == raw["source"].split(".")[1]


@pytest.mark.parametrize(
    "path", sorted(p for p in (EVENTS / "sqs").glob("*.json") if p.name != "DeadlineReached.json"), ids=lambda p: p.name
)
def test_sqs_samples_wrap_a_valid_event(path: Path) -> None:
    [record] = json.loads(path.read_text())["Records"]
    parse_any(json.loads(record["body"]))


def matched(rule: str) -> set[str]:
    pattern = EventPattern.load(json.dumps(RULES[rule]))
    return {
        json.loads(p.read_text())["detail-type"]
        for p in EVENTBRIDGE_SAMPLES
        if pattern.matches_event(json.loads(p.read_text()))  # type: ignore[arg-type]
    }


@pytest.mark.parametrize("rule", sorted(EXPECTED_ROUTES))
def test_each_rule_routes_exactly_its_events(rule: str) -> None:
    assert matched(rule) == EXPECTED_ROUTES[rule]


def test_no_rule_matches_a_foreign_source() -> None:
    forged = {**json.loads((EVENTS / "order/OrderCreated.json").read_text()), "source": "someone.else"}
    for rule in RULES.values():
        assert not EventPattern.load(json.dumps(rule)).matches_event(forged)  # type: ignore[arg-type]


def test_every_rule_has_a_consumer() -> None:
    assert set(RULES) == set(EXPECTED_ROUTES)


def test_every_consumer_is_a_use_of_the_building_block_with_its_own_function_and_role() -> None:
    functions = resources_of_type("AWS::Serverless::Function")
    for consumer, parameters in subscriptions().items():
        assert parameters["FunctionArn"] == {"GetAtt": f"{consumer}Function.Arn"}
        assert parameters["FunctionRoleName"] == {"Ref": f"{consumer}FunctionRole"}
        assert parameters["EventBusName"] == {"Ref": "EventBus"}
        assert parameters["MaxReceiveCount"] == {"Ref": "MaxReceiveCount"}
        assert parameters["Local"] == {"Ref": "Local"}
        # The block wires the queue to the function: the function itself declares no event source.
        assert "Role" not in functions[f"{consumer}Function"]["Properties"]
        assert "Events" not in functions[f"{consumer}Function"]["Properties"]
    # Every function fed by a queue is either a subscriber or the deadline handler (fed by its schedules).
    fed_by_a_queue = {
        name
        for name, body in functions.items()
        if any(e["Type"] == "SQS" for e in body["Properties"].get("Events", {}).values())
    }
    assert fed_by_a_queue == {"OrderDeadlineFunction"}


def test_the_building_block_reads_its_queue_in_bounded_batches_with_partial_batch_failures() -> None:
    resources = consumer_block()["Resources"]
    mapping = resources["EventSourceMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"GetAtt": "Queue.Arn"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # On the local cloud a literal (its poller refuses parameter strings): 4 where the use asks for it, else 2.
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {
        "If": ["IsLocal", {"If": ["LocalWide", 4, 2]}, {"Ref": "MaximumConcurrency"}]
    }
    wide = {name for name, p in subscriptions().items() if p.get("LocalMaximumConcurrency") == "4"}
    assert wide == {"SagaOnSagaEvent"}  # the one consumer of every saga event
    assert resources["EventSourceMapping"]["DependsOn"] == "ConsumePolicy"
    queue = resources["Queue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"GetAtt": "DeadLetterQueue.Arn"},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    alarm = resources["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"GetAtt": "DeadLetterQueue.QueueName"}}]
    [target] = resources["Rule"]["Properties"]["Targets"]
    assert (target["Id"], target["Arn"]) == ("consumerQueue", {"GetAtt": "Queue.Arn"})
    [sender] = resources["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert sender["Condition"] == {"ArnEquals": {"aws:SourceArn": {"GetAtt": "Rule.Arn"}}}


def test_the_building_block_grants_the_function_its_own_queues_and_nothing_else() -> None:
    policy = consumer_block()["Resources"]["ConsumePolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "FunctionRoleName"}]
    grants = {json.dumps(s["Resource"]): set(s["Action"]) for s in policy["PolicyDocument"]["Statement"]}
    assert grants == {
        json.dumps({"GetAtt": "Queue.Arn"}): {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        },
        json.dumps({"GetAtt": "DeadLetterQueue.Arn"}): {"sqs:SendMessage", "sqs:GetQueueUrl"},
    }


def test_every_dead_letter_queue_has_an_alarm_and_a_place_in_the_outputs() -> None:
    outputs = json.dumps(template()["Outputs"]["DeadLetterQueueUrls"])
    for consumer in subscriptions():
        assert f'"GetAtt": "{consumer}Subscription.Outputs.DeadLetterQueueUrl"' in outputs
    for name in resources_of_type("AWS::SQS::Queue"):
        if name.endswith("DeadLetterQueue"):
            assert f'"Ref": "{name}"' in outputs
            assert name.replace("Queue", "Alarm") in resources_of_type("AWS::CloudWatch::Alarm")


def test_the_outbox_relay_is_declared_once_and_used_by_each_service_that_publishes() -> None:
    raw = load(TEMPLATE)["Resources"]
    loops = {key: value for key, value in raw.items() if key.startswith("Fn::ForEach::")}
    assert "Fn::ForEach::OutboxRelays" in loops
    identifier, services, members = loops["Fn::ForEach::OutboxRelays"]
    assert (identifier, services) == ("Service", ["Order", "Payment", "Inventory"])
    assert set(members) == {"${Service}PublisherRole", "${Service}OutboxRelayFunction", "${Service}OutboxAgeAlarm"}
    assert not [n for n in raw if n not in loops and ("OutboxRelay" in n or "PublisherRole" in n or "OutboxAge" in n)]
    # Expanded, each service has its own, under the logical ids operators, reports and alarms name.
    for service in services:
        assert resource(f"{service}OutboxRelayFunction")["Properties"]["Environment"]["Variables"]["EVENT_SOURCE"] == (
            f"shop.{service.lower()}"
        )


def test_the_choreography_is_one_table_and_each_consumer_of_it_one_use_of_the_building_block() -> None:
    loaded = load(TEMPLATE)
    table = loaded["Mappings"]["Subscriptions"]
    identifier, consumers, members = loaded["Resources"]["Fn::ForEach::Subscriptions"]
    assert identifier == "Consumer" and consumers == list(table)
    assert list(members) == ["${Consumer}Subscription"]
    # Expanded, each consumer's rule takes the one event the table names, delivered to its own function.
    found = subscriptions()
    for consumer, event in table.items():
        pattern = found[consumer]["EventPattern"]
        assert pattern == {"source": event["Source"], "detail-type": event["DetailType"]}
        assert found[consumer]["FunctionArn"] == {"GetAtt": f"{consumer}Function.Arn"}
        assert found[consumer]["FunctionRoleName"] == {"Ref": f"{consumer}FunctionRole"}


def test_only_the_relays_may_publish_and_each_only_its_own_source() -> None:
    for name, function in resources_of_type("AWS::Serverless::Function").items():
        policies = json.dumps(function["Properties"].get("Policies", []))
        assert "PutEvents" not in policies, name
        if name.endswith("OutboxRelayFunction"):
            service = name.removesuffix("OutboxRelayFunction")
            assert function["Properties"]["Handler"] == "shared.relay.lambda_handler"
            assert function["Properties"]["Role"] == {"GetAtt": f"{service}PublisherRole.Arn"}
            source = function["Properties"]["Environment"]["Variables"]["EVENT_SOURCE"]
            assert source == f"shop.{service.lower()}"
            statements = resource(f"{service}PublisherRole")["Properties"]["Policies"][0]["PolicyDocument"]
            [publish] = [s for s in statements["Statement"] if s["Action"] == "events:PutEvents"]
            assert publish["Resource"] == {"GetAtt": "EventBus.Arn"}
            assert publish["Condition"] == {"StringEquals": {"events:source": source}}
            stream, sweep = function["Properties"]["Events"]["OutboxStream"], function["Properties"]["Events"]["Sweep"]
            assert stream["Properties"]["MaximumRecordAgeInSeconds"] == {"If": ["IsAws", 3600, 60]}
            assert stream["Properties"]["BisectBatchOnFunctionError"] is True
            assert "OnFailure" in stream["Properties"]["DestinationConfig"]
            assert sweep["Properties"]["Schedule"] == "rate(1 minute)"
    on_the_bus = {name for name, body in resources_of_type("AWS::IAM::Role").items() if "PutEvents" in json.dumps(body)}
    assert on_the_bus == {"OrderPublisherRole", "PaymentPublisherRole", "InventoryPublisherRole"}
    # The forward's role (blocks/forward.yaml) puts on another account's bus only (tests/contract/test_template.py).
    assert "EventBusName" not in json.dumps(forward_block()["Resources"]["Role"]["Properties"]["Policies"])


def test_a_relay_may_only_remove_outbox_rows_and_query_the_outbox_index() -> None:
    for service in ("Order", "Payment", "Inventory"):
        statements = resource(f"{service}PublisherRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        # Both ways the relay removes rows: a batch once published (Table.remove), one refused row (Table.write).
        # IAM authorises BatchWriteItem by its own action: a DeleteItem grant alone denies every batch.
        [delete] = [s for s in statements if "dynamodb:DeleteItem" in s["Action"]]
        assert set(delete["Action"]) == {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem",
                                         "dynamodb:GetItem"}  # fmt: skip
        assert delete["Resource"] == {"GetAtt": f"{service}Table.Arn"}
        assert delete["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["OUTBOX#*"]}}
        [query] = [s for s in statements if s["Action"] == "dynamodb:Query"]
        assert query["Resource"] == {"Sub": f"${{{service}Table.Arn}}/index/outbox-pending"}


def test_the_bus_accepts_a_service_source_only_from_its_publisher_role() -> None:
    statements = resource("EventBus")["Properties"]["Policy"]["Statement"]
    denied = {}
    # The one conditional statement admits named accounts to manage rules (test_template.py), never to put.
    for statement in [s for s in statements if "If" not in s]:
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "events:PutEvents")
        source = statement["Condition"]["StringEquals"]["events:source"]
        denied[source] = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]["Sub"]
    for service in ("order", "payment", "inventory"):
        role = resource(f"{service.capitalize()}PublisherRole")["Properties"]["RoleName"]["Sub"]
        assert denied[f"shop.{service}"].endswith(f":role/{role}"), service
    assert set(denied) == {"shop.order", "shop.payment", "shop.inventory"}


def test_business_tables_survive_the_stack_and_recover_to_any_second() -> None:
    for name in ("OrderTable", "PaymentTable", "InventoryTable"):
        table = resource(name)
        assert (table.get("DeletionPolicy"), table.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        indexes = {index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]}
        assert "outbox-pending" in indexes


def test_resources_the_local_cloud_refuses_are_aws_only() -> None:
    aws_only = {"IsAws"} | {
        name for name, body in template()["Conditions"].items() if {"Condition": "IsAws"} in body.get("And", [])
    }
    for name, body in template()["Resources"].items():
        if body["Type"].startswith(("AWS::EventSchemas::", "AWS::Events::Archive", "AWS::WAFv2::")):
            assert body.get("Condition") in aws_only, name


def test_json_schemas_are_generated_from_the_models() -> None:
    assert schemas.main(["--check"]) == 0


@pytest.mark.parametrize("path", EVENTBRIDGE_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_samples_validate_against_the_published_schemas(path: Path) -> None:
    raw = json.loads(path.read_text())
    schema = json.loads((schemas.SCHEMAS / f"{raw['detail-type']}.v1.schema.json").read_text())
    jsonschema.validate(raw["detail"], schema)


def test_the_event_catalogue_and_the_choreography_diagram_are_generated_from_contracts_and_templates() -> None:
    assert catalogue.main(["--check"]) == 0


def test_the_catalogue_check_fails_when_a_subscription_is_not_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    found = catalogue.consumers()
    planted = catalogue.Consumer("ShippingOnOrderConfirmed", "shipping", "elsewhere", ("OrderConfirmed",))
    monkeypatch.setattr(catalogue, "consumers", lambda: [*found, planted])
    assert catalogue.main(["--check"]) == 1


def test_every_compensation_failure_code_has_a_sentence_for_customers_and_a_place_in_the_schema() -> None:
    from order.models.order import UNDOING_FAILED_BECAUSE
    from shop_contracts.compensation import COMPENSATION_FAILURE_CODES, FAILURE_CODE_MEANS

    schema = json.loads((Path(schemas.SCHEMAS) / "CompensationFailed.v1.schema.json").read_text())
    [codes, _] = schema["$defs"]["CompensationFailed"]["properties"]["reasonCode"]["anyOf"]
    published = set(codes["enum"])

    assert set(UNDOING_FAILED_BECAUSE) == set(FAILURE_CODE_MEANS) == COMPENSATION_FAILURE_CODES == published
    assert all(len(code) <= 32 for code in COMPENSATION_FAILURE_CODES)

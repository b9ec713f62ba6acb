"""moto-backed AWS for component tests: the four tables shaped as in template.yaml, a view of each outbox, and
the KMS key that seals payment tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from shared import aws, environment
from shared.payment_tokens import DataKeyTokenCipher
from shop_contracts.registry import CONTRACTS
from tests.support.builders import CONSUMER_QUEUE, FakeLambdaContext
from tools.template import resource

TABLES = {
    "OrderTable": "ORDER_TABLE_NAME",
    "PaymentTable": "PAYMENT_TABLE_NAME",
    "InventoryTable": "INVENTORY_TABLE_NAME",
    "SagaTable": "SAGA_TABLE_NAME",
}


def _clear_caches() -> None:
    # Adapters, clients and settings are kept per execution environment; each test is a new one.
    environment.reset()


@dataclass
class Table:
    """A moto table with helpers to look inside it."""

    name: str
    # What the table held when the test's setup ended (the seeded catalogue): "nothing written" means this.
    baseline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def _table(self) -> Any:
        return boto3.resource("dynamodb").Table(self.name)

    def item(self, pk: str) -> dict[str, Any] | None:
        """One item by key."""
        return self._table.get_item(Key={"pk": pk}).get("Item")  # type: ignore[no-any-return]

    def items(self, prefix: str = "") -> list[dict[str, Any]]:
        """Every item whose key starts with `prefix`."""
        found = self._table.scan()["Items"]
        return [item for item in found if str(item["pk"]).startswith(prefix)]

    def outbox(self) -> list[tuple[str, dict[str, Any]]]:
        """What the service will publish: (detail-type, detail) per outbox record."""
        records = self.items("OUTBOX#")
        assert all(record["detailType"] in CONTRACTS for record in records)
        return sorted(
            ((r["detailType"], json.loads(r["detail"])) for r in records), key=lambda r: r[1]["metadata"]["occurredAt"]
        )

    def published(self) -> list[str]:
        """The detail-types in the outbox, in order."""
        return [detail_type for detail_type, _ in self.outbox()]


@dataclass
class Tables:
    """The four service tables, and the cipher of the payment token key (as the order API seals)."""

    order: Table
    payment: Table
    inventory: Table
    saga: Table
    tokens: DataKeyTokenCipher

    def price(self, prices: dict[str, str]) -> None:
        """The order service's catalogue copy learns these prices, through its real consumer."""
        from order.handlers import on_product_priced
        from shop_contracts.inventory import ProductPriced
        from tests.support.builders import FakeLambdaContext, envelope, sqs_event

        for product_id, price in prices.items():
            stored = self.order.item(f"PRICE#{product_id}")
            version = int(stored["version"]) + 1 if stored else 1
            event = ProductPriced(product_id=product_id, name=product_id, price=Decimal(price), version=version)
            answer = on_product_priced.lambda_handler(
                sqs_event(envelope(event, order_id=product_id)), cast(LambdaContext, FakeLambdaContext())
            )
            assert answer == {"batchItemFailures": []}, answer
        self.order.baseline = self.order.items()


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tables]:
    """Fresh moto tables named in the environment, as the template wires them."""
    with mock_aws():
        client = boto3.client("dynamodb")
        names = {}
        for logical_id, variable in TABLES.items():
            props = resource(logical_id)["Properties"]
            name = f"test-{logical_id}"
            client.create_table(
                TableName=name,
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": "StreamSpecification" in props, "StreamViewType": "NEW_IMAGE"},
                **(
                    {"GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]}
                    if "GlobalSecondaryIndexes" in props
                    else {}
                ),
            )
            monkeypatch.setenv(variable, name)
            names[logical_id] = name
        monkeypatch.setenv("EVENT_BUS_NAME", "test-bus")
        monkeypatch.setenv("ORDER_DEADLINE_SECONDS", "60")
        monkeypatch.setenv("PAYMENT_SIMULATOR", "true")  # as the local stacks say; one test takes it away
        key = boto3.client("kms").create_key(Description="payment tokens")["KeyMetadata"]["Arn"]
        monkeypatch.setenv("PAYMENT_TOKEN_KEY_ARN", key)
        # The consumer queue every test batch names (tests/support/builders.py), with its dead-letter
        # queue, as blocks/consumer.yaml makes them.
        sqs = boto3.client("sqs")
        dlq = sqs.create_queue(QueueName=f"{CONSUMER_QUEUE}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.create_queue(
            QueueName=CONSUMER_QUEUE,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
        )
        _clear_caches()
        order, payment, inventory, saga = (Table(names[logical_id]) for logical_id in TABLES)
        yield Tables(order, payment, inventory, saga, tokens=DataKeyTokenCipher(aws.kms(), key))
        _clear_caches()


@pytest.fixture
def context() -> LambdaContext:
    """A Lambda context for handlers."""
    return cast(LambdaContext, FakeLambdaContext())


@dataclass
class CapturedBus:
    """The bus `test-bus` with a catch-all rule into a queue, to see what was published."""

    sqs: Any
    queue: str

    def received(self) -> list[dict[str, Any]]:
        """Every event that reached the bus since the last call."""
        found = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", []):
            found += [json.loads(message["Body"]) for message in batch]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue,
                Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
            )
        return found


@pytest.fixture
def bus(tables: Tables) -> CapturedBus:
    """A bus on moto whose every event lands in a queue (moto runs no Lambda targets)."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="test-bus")
    queue = sqs.create_queue(QueueName="capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="test-bus", EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule="all", EventBusName="test-bus", Targets=[{"Id": "q", "Arn": arn}])
    return CapturedBus(sqs, queue)


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The DynamoDB operations the functions call inside the block, in order (their shared client's)."""
    calls: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb", record)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", record)

"""Every file in events/ fed through the handler the template wires it to, on moto, with the state it needs.

The samples describe one order (tools/codegen/sample_events.py). Each story below sets that order up the way a
stack would, through the handlers themselves, starting from the API samples; the order, payment and
sealed token the story really made then stand in for the sample's placeholders (its order id, payment id
and ciphertext), and each sample goes to every function subscribed to it. `sam remote invoke` sends the same
files to a deployed stack (README, Local development).
"""

from __future__ import annotations

import importlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from tests.component.conftest import CapturedBus, Tables
from tests.component.saga.test_projector import emf
from tools.codegen import sample_events
from tools.template import resource, resources_of_type, subscriptions

EVENTS = Path(sample_events.EVENTS)


def handler(function: str) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The function's handler, as the template names it."""
    module, name = resource(function)["Properties"]["Handler"].rsplit(".", 1)
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def subscribers(detail_type: str) -> list[str]:
    """The functions subscribed to a detail-type."""
    return [f"{c}Function" for c, p in subscriptions().items() if detail_type in p["EventPattern"]["detail-type"]]


class Story:
    """One order, made through the handlers, standing in for the samples' placeholders."""

    def __init__(self, tables: Tables, context: LambdaContext) -> None:
        self.tables, self.context = tables, context
        self.stand_ins: dict[str, str] = {}

    def sample(self, name: str) -> dict[str, Any]:
        text = (EVENTS / name).read_text()
        for placeholder, real in self.stand_ins.items():
            text = text.replace(placeholder, real)
        return json.loads(text)  # type: ignore[no-any-return]

    def call(self, name: str, function: str) -> dict[str, Any]:
        return handler(function)(self.sample(name), self.context)

    def api(self, name: str, function: str, status: int) -> dict[str, Any]:
        answer = self.call(name, function)
        assert answer["statusCode"] == status, (name, answer)
        return json.loads(answer["body"]) if answer.get("body") else {}

    def deliver(self, name: str, *, to: str | None = None) -> None:
        """An SQS sample to every function subscribed to its event (or to one of them)."""
        [record] = self.sample(name)["Records"]
        functions = [to] if to else subscribers(json.loads(record["body"])["detail-type"])
        assert functions, f"nothing is subscribed to {name}"
        for function in functions:
            assert self.call(name, function) == {"batchItemFailures": []}, (name, function)

    def place(self) -> str:
        """The catalogue, then the order of api/PlaceOrder.json."""
        self.api("api/PutProduct.json", "InventoryApiFunction", 200)
        second = self.sample("api/PutProduct.json")
        second["pathParameters"]["productId"] = "PROD-002"
        second["path"] = second["requestContext"]["path"] = "/products/PROD-002"
        second["body"] = json.dumps({"name": "Dock", "price": "199.99", "available": 5})
        assert handler("InventoryApiFunction")(second, self.context)["statusCode"] == 200
        self.deliver("sqs/ProductPriced.json")  # PROD-001's price, as the order service learns it
        self.tables.price({"PROD-002": "199.99"})
        order_id = str(self.api("api/PlaceOrder.json", "OrderApiFunction", 201)["orderId"])
        [(_, created)] = self.tables.order.outbox()
        self.stand_ins = {
            sample_events.ORDER_ID: order_id,
            sample_events.SAMPLE_SEALED_TOKEN: created["data"]["encryptedPaymentToken"],
        }
        return order_id

    def charge(self) -> None:
        self.deliver("sqs/OrderCreated.json", to="PaymentOnOrderCreatedFunction")
        [(detail_type, processed)] = self.tables.payment.outbox()
        assert detail_type == "PaymentProcessed"
        self.stand_ins[sample_events.PAYMENT_ID] = processed["data"]["paymentId"]

    def status(self, order_id: str) -> tuple[str, str | None]:
        item = self.tables.order.item(f"ORDER#{order_id}")
        assert item is not None
        return item["status"], item.get("cancellationReason")


def saga_status(tables: Tables, order_id: str) -> str:
    item = tables.saga.item(f"SAGA#{order_id}")
    assert item is not None
    return str(item["view"]["status"])


@pytest.fixture
def story(tables: Tables, context: LambdaContext, bus: CapturedBus, monkeypatch: pytest.MonkeyPatch) -> Story:
    # What the template gives the deadline and relay functions (the tables fixture names the tables).
    sqs = boto3.client("sqs")
    monkeypatch.setenv("DEADLINE_QUEUE_ARN", "arn:aws:sqs:us-east-1:123456789012:deadline")
    monkeypatch.setenv("DEADLINE_QUEUE_URL", sqs.create_queue(QueueName="deadline")["QueueUrl"])
    monkeypatch.setenv("DEADLINE_DEAD_LETTER_QUEUE_ARN", "arn:aws:sqs:us-east-1:123456789012:deadline-dlq")
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/scheduler")
    monkeypatch.setenv("OUTBOX_TABLE_NAME", tables.order.name)
    monkeypatch.setenv("EVENT_SOURCE", "shop.order")
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", sqs.create_queue(QueueName="relay-dlq")["QueueUrl"])
    return Story(tables, context)


def test_the_happy_path_samples(story: Story, tables: Tables) -> None:
    assert story.api("api/GetProduct.json", "InventoryApiFunction", 404)  # nothing in the catalogue yet
    story.api("api/PlaceOrder.invalid.json", "OrderApiFunction", 400)
    order_id = story.place()
    assert story.api("api/GetProduct.json", "InventoryApiFunction", 200)["available"] == 50
    assert story.api("api/RestockProduct.json", "InventoryApiFunction", 200)["available"] == 60
    assert story.api("api/GetOrder.json", "OrderApiFunction", 200)["status"] == "PENDING"

    story.deliver("sqs/OrderCreated.json", to="OrderOnOrderCreatedFunction")
    # The sample's deadline is long past, so it is due at once: straight to the deadline queue.
    deadline_queue = boto3.client("sqs").get_queue_url(QueueName="deadline")["QueueUrl"]
    [due] = boto3.client("sqs").receive_message(QueueUrl=deadline_queue)["Messages"]
    assert json.loads(due["Body"]) == {"orderId": order_id}
    story.charge()
    story.deliver("sqs/PaymentProcessed.json")
    assert tables.inventory.published() == ["ProductPriced", "ProductPriced", "InventoryReserved"]
    story.deliver("sqs/InventoryReserved.json")
    assert story.status(order_id) == ("CONFIRMED", None)
    story.deliver("sqs/OrderConfirmed.json")
    assert {p["status"] for p in tables.payment.items("PAYMENT#")} == {"SETTLED"}
    assert {r["status"] for r in tables.inventory.items("RESERVATION#")} == {"COMMITTED"}
    assert saga_status(tables, order_id) == "COMPLETED"


def test_the_customer_cancel_samples(story: Story, tables: Tables) -> None:
    order_id = story.place()
    story.charge()
    story.deliver("sqs/PaymentProcessed.json", to="InventoryOnPaymentProcessedFunction")

    story.api("api/CancelOrder.json", "OrderApiFunction", 202)
    assert story.status(order_id) == ("CANCELLED", "customer_request")
    story.deliver("sqs/OrderCancelled.json")

    assert tables.payment.published() == ["PaymentProcessed", "PaymentRefunded"]
    assert tables.inventory.published()[-2:] == ["InventoryReserved", "InventoryReleased"]
    story.deliver("sqs/PaymentRefunded.json")
    story.deliver("sqs/InventoryReleased.json")
    assert saga_status(tables, order_id) == "CANCELLED"


def test_the_out_of_stock_samples(story: Story, tables: Tables) -> None:
    order_id = story.place()
    story.charge()

    story.deliver("sqs/InventoryFailed.json")
    assert story.status(order_id) == ("CANCELLED", "out_of_stock")
    story.deliver("sqs/OrderCancelled.out_of_stock.json")
    assert tables.payment.published() == ["PaymentProcessed", "PaymentRefunded"]


def test_the_declined_payment_sample(story: Story, tables: Tables) -> None:
    order_id = story.place()

    story.deliver("sqs/PaymentFailed.json")
    assert story.status(order_id) == ("CANCELLED", "payment_declined")
    assert saga_status(tables, order_id) == "COMPENSATING"


def test_the_failed_compensation_sample(story: Story, tables: Tables) -> None:
    order_id = story.place()
    story.charge()
    story.deliver("sqs/PaymentProcessed.json", to="SagaOnSagaEventFunction")

    story.deliver("sqs/CompensationFailed.json")
    assert saga_status(tables, order_id) == "COMPENSATION_FAILED"


def test_the_voided_payment_sample(story: Story, tables: Tables) -> None:
    order_id = story.place()
    story.api("api/CancelOrder.json", "OrderApiFunction", 202)
    story.deliver("sqs/OrderCancelled.json")
    assert tables.payment.published() == ["PaymentVoided"]

    story.deliver("sqs/PaymentVoided.json")
    assert saga_status(tables, order_id) == "CANCELLED"


def test_the_deadline_sample(story: Story, tables: Tables) -> None:
    order_id = story.place()
    tables.order._table.update_item(
        Key={"pk": f"ORDER#{order_id}"},
        UpdateExpression="SET deadline = :past",
        ExpressionAttributeValues={":past": "2026-01-01T00:00:00+00:00"},
    )

    story.deliver("sqs/DeadlineReached.json", to="OrderDeadlineFunction")

    assert story.status(order_id) == ("CANCELLED", "timeout")


def test_the_outbox_stream_sample(story: Story, bus: CapturedBus, capsys: pytest.CaptureFixture[str]) -> None:
    answer = story.call("stream/OutboxInsert.json", "OrderOutboxRelayFunction")

    assert answer.get("batchItemFailures", []) == []
    [published] = bus.received()
    assert (published["detail-type"], published["detail"]["metadata"]["eventId"]) == ("OrderCreated", "e-order-created")
    [age] = emf(capsys.readouterr().out)["OutboxAge"]  # seconds since the sample row was committed
    assert age == pytest.approx(time.time() - 1795946400, abs=60)


def test_every_bus_sample_is_the_body_of_its_sqs_sample() -> None:
    for path in sorted(EVENTS.glob("*/*.json")):
        if path.parent.name in {"order", "payment", "inventory"}:
            [record] = json.loads((EVENTS / "sqs" / path.name).read_text())["Records"]
            assert json.loads(record["body"]) == json.loads(path.read_text()), path.name


def test_every_sample_is_proven_by_a_story() -> None:
    # Read from this module's stories (tests may run on several workers, so not from what ran).
    named = set(re.findall(r'"((?:api|sqs|stream)/[\w.]+\.json)"', Path(__file__).read_text()))
    inputs = {str(p.relative_to(EVENTS)) for p in EVENTS.glob("*/*.json") if p.parent.name in {"api", "sqs", "stream"}}
    assert inputs == named
    assert {f for f in resources_of_type("AWS::Serverless::Function") if "Api" in f} == {
        "OrderApiFunction",
        "InventoryApiFunction",
    }

"""The order service's reactions to the saga's events: confirm, cancel, and ignore what comes late or twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from order.handlers import (
    on_inventory_failed,
    on_inventory_reserved,
    on_payment_failed,
    on_payment_processed,
    on_product_priced,
)
from shared import aws
from shop_contracts.envelope import Envelope
from shop_contracts.inventory import InventoryFailed, InventoryReserved, ProductPriced, Shortage
from shop_contracts.order import OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed
from tests.component.conftest import Tables, dynamodb_calls
from tests.component.order.test_api import VALID, call
from tests.support.builders import CONSUMER_QUEUE, envelope, eventbridge, lines, sqs_event


def place(tables: Tables, context: LambdaContext) -> tuple[str, Envelope[Any]]:
    _, _, body = call(context, "POST", "/orders", VALID)
    [(_, detail)] = tables.order.outbox()
    return body["orderId"], Envelope[OrderCreated].model_validate(detail)


def status(tables: Tables, order_id: str) -> tuple[str, str | None]:
    item = tables.order.item(f"ORDER#{order_id}")
    assert item is not None
    return item["status"], item.get("cancellationReason")


def test_a_declined_payment_cancels_the_order(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    failed = envelope(PaymentFailed(order_id=order_id, reason="card_declined"), cause=created.metadata)

    response = on_payment_failed.lambda_handler(sqs_event(failed), context)

    assert response == {"batchItemFailures": []}
    assert status(tables, order_id) == ("CANCELLED", "payment_declined")
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]
    cancelled = tables.order.outbox()[1][1]
    assert cancelled["data"] == {"orderId": order_id, "reason": "payment_declined"}
    assert cancelled["metadata"]["causationId"] == failed.metadata.event_id


def test_a_shortage_cancels_the_order_as_out_of_stock(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    shortage = Shortage(product_id="PROD-001", requested=2, available=0)
    failed = envelope(
        InventoryFailed(order_id=order_id, reason="out_of_stock", shortages=(shortage,)), cause=created.metadata
    )

    on_inventory_failed.lambda_handler(sqs_event(failed), context)

    assert status(tables, order_id) == ("CANCELLED", "out_of_stock")


def test_a_paid_and_fully_reserved_order_is_confirmed(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    reserved = envelope(InventoryReserved(order_id=order_id, items=lines(("PROD-001", 2))), cause=created.metadata)
    paid = envelope(
        PaymentProcessed(order_id=order_id, payment_id="p-1", amount=Decimal("2599.98"), items=lines(("PROD-001", 2))),
        cause=created.metadata,
    )

    on_inventory_reserved.lambda_handler(sqs_event(reserved), context)
    assert status(tables, order_id) == ("PENDING", None)  # a reservation alone confirms nothing
    on_payment_processed.lambda_handler(sqs_event(paid), context)

    assert status(tables, order_id) == ("CONFIRMED", None)
    assert tables.order.published() == ["OrderCreated", "OrderConfirmed"]


def test_a_reservation_that_loses_the_race_to_the_payment_runs_again_at_once_and_confirms(
    tables: Tables, context: LambdaContext
) -> None:
    # The two notes of one order arrive together: the payment's commit lands between the reservation's read
    # of the order and its write. The reservation's write is refused (it read an unpaid order); run again
    # at once it reads the paid order and confirms it, rather than waiting out the queue's visibility timeout.
    order_id, created = place(tables, context)
    reserved = envelope(InventoryReserved(order_id=order_id, items=lines(("PROD-001", 2))), cause=created.metadata)
    paid = envelope(
        PaymentProcessed(order_id=order_id, payment_id="p-1", amount=Decimal("2599.98"), items=lines(("PROD-001", 2))),
        cause=created.metadata,
    )
    raced: list[dict[str, Any]] = []

    def payment_lands_first(event_name: str, **_: Any) -> None:
        if event_name.endswith(("UpdateItem", "TransactWriteItems")) and not raced:
            raced.append({})  # once: the payment's own write passes
            raced[0] = on_payment_processed.lambda_handler(sqs_event(paid), context)

    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb", payment_lands_first)
    try:
        with dynamodb_calls() as calls:
            response = on_inventory_reserved.lambda_handler(sqs_event(reserved), context)
    finally:
        events.unregister("before-call.dynamodb", payment_lands_first)

    assert raced == [{"batchItemFailures": []}]  # the payment was noted, the order still pending
    assert response == {"batchItemFailures": []}
    assert status(tables, order_id) == ("CONFIRMED", None)
    assert tables.order.published() == ["OrderCreated", "OrderConfirmed"]
    # The reservation reads the order; the payment reads and notes it; the reservation's note is refused;
    # its second run reads the paid order and confirms it.
    assert calls == ["GetItem", "GetItem", "UpdateItem", "UpdateItem", "GetItem", "TransactWriteItems"]


def test_the_same_event_delivered_twice_changes_the_order_once(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    failed = envelope(PaymentFailed(order_id=order_id, reason="card_declined"), cause=created.metadata)

    on_payment_failed.lambda_handler(sqs_event(failed, failed), context)
    on_payment_failed.lambda_handler(sqs_event(failed), context)

    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]


def test_a_reservation_after_cancellation_does_not_confirm(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    call(
        context,
        "POST",
        f"/orders/{order_id}/cancel",
        resource="/orders/{orderId}/cancel",
        path_parameters={"orderId": order_id},
    )
    reserved = envelope(InventoryReserved(order_id=order_id, items=lines(("PROD-001", 2))), cause=created.metadata)

    on_inventory_reserved.lambda_handler(sqs_event(reserved), context)

    assert status(tables, order_id) == ("CANCELLED", "customer_request")
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]


def test_an_event_for_an_unknown_order_fails_only_its_record(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    unknown = envelope(PaymentFailed(order_id="no-such-order", reason="card_declined"), order_id="no-such-order")
    known = envelope(PaymentFailed(order_id=order_id, reason="card_declined"), cause=created.metadata)

    response = on_payment_failed.lambda_handler(sqs_event(unknown, known), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert status(tables, order_id) == ("CANCELLED", "payment_declined")


def test_a_batch_whose_every_record_fails_is_reported_record_by_record(tables: Tables, context: LambdaContext) -> None:
    # Not raised as one error: SQS must learn of each record the same way, whatever the rest did.
    strangers = [
        envelope(PaymentFailed(order_id=f"no-such-order-{n}", reason="card_declined"), order_id=f"no-such-order-{n}")
        for n in range(3)
    ]

    response = on_payment_failed.lambda_handler(sqs_event(*strangers), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": f"m-{n}"} for n in range(3)]}
    assert tables.order.published() == []


def test_a_malformed_event_fails_only_its_record_and_writes_nothing(tables: Tables, context: LambdaContext) -> None:
    order_id, created = place(tables, context)
    known = envelope(PaymentFailed(order_id=order_id, reason="card_declined"), cause=created.metadata)
    wrong_version = {
        "source": "shop.payment",
        "detail-type": "PaymentFailed",
        "detail": {"metadata": {**known.metadata.to_wire(), "eventVersion": "1"}, "data": known.data.to_wire()},
    }

    response = on_payment_failed.lambda_handler(
        sqs_event("not json", {"source": "shop.payment", "detail-type": "PaymentFailed", "detail": {}}, wrong_version),
        context,
    )

    assert response == {"batchItemFailures": []}  # all three parked with their reasons, none retried
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName=f"{CONSUMER_QUEUE}-dlq")["QueueUrl"]
    parked = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    reasons = sorted(m["MessageAttributes"]["FailureReason"]["StringValue"] for m in parked)
    assert [r.split(":")[0] for r in reasons] == [
        "PaymentFailed detail is invalid",
        "PaymentFailed detail is invalid",
        "message body is not JSON",
    ]
    assert status(tables, order_id) == ("PENDING", None)
    assert tables.order.published() == ["OrderCreated"]


def test_a_later_event_version_is_skipped_not_parked_and_changes_nothing(
    tables: Tables, context: LambdaContext
) -> None:
    order_id, created = place(tables, context)
    v1 = envelope(PaymentFailed(order_id=order_id, reason="card_declined"), cause=created.metadata)
    v2 = eventbridge(v1)
    v2["detail"]["metadata"]["eventVersion"] = 2
    v2["detail"]["data"]["reasonCode"] = "a field v1 does not know"

    response = on_payment_failed.lambda_handler(sqs_event(json.dumps(v2)), context)

    assert response == {"batchItemFailures": []}  # acknowledged: its v1 twin is on the bus beside it
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName=f"{CONSUMER_QUEUE}-dlq")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    assert status(tables, order_id) == ("PENDING", None)
    assert tables.order.published() == ["OrderCreated"]


def test_a_malformed_event_from_a_queue_with_no_readable_dead_letter_queue_is_reported_not_lost(
    tables: Tables, context: LambdaContext
) -> None:
    batch = sqs_event("not json")
    batch["Records"][0]["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:no-such-queue"

    response = on_payment_failed.lambda_handler(batch, context)

    # SQS redelivers it and, after maxReceiveCount, moves it by the queue's own redrive policy.
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert tables.order.items() == tables.order.baseline


def test_an_order_carries_a_deadline_from_its_settings(tables: Tables, context: LambdaContext) -> None:
    _, created = place(tables, context)
    assert created.data.deadline - created.metadata.occurred_at < timedelta(seconds=61)
    assert created.data.deadline > datetime.now(UTC)
    assert created.data.total_amount == Decimal("2599.98")


def test_a_malformed_event_is_parked_in_the_dead_letter_queue_with_its_reason(
    tables: Tables, context: LambdaContext
) -> None:
    sqs = boto3.client("sqs")
    # Found from the consumer queue's redrive policy, as on a stack: no configuration names it.
    dlq = sqs.get_queue_url(QueueName=f"{CONSUMER_QUEUE}-dlq")["QueueUrl"]

    response = on_payment_failed.lambda_handler(sqs_event("{broken"), context)

    assert response == {"batchItemFailures": []}  # acknowledged: it will not block the queue
    [parked] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert parked["Body"] == "{broken"
    assert "not JSON" in parked["MessageAttributes"]["FailureReason"]["StringValue"]
    assert parked["MessageAttributes"]["OriginalMessageId"]["StringValue"] == "m-0"
    assert tables.order.items() == tables.order.baseline


def test_the_catalogue_copy_keeps_the_newest_price_of_events_late_and_twice(
    tables: Tables, context: LambdaContext
) -> None:
    def price(version: int, amount: str) -> Envelope[Any]:
        event = ProductPriced(product_id="A", name="Laptop", price=Decimal(amount), version=version)
        return envelope(event, order_id="A")

    newest, older = price(3, "999.00"), price(2, "1099.00")
    on_product_priced.lambda_handler(sqs_event(newest, older, newest), context)
    on_product_priced.lambda_handler(sqs_event(price(1, "1299.99")), context)

    stored = tables.order.item("PRICE#A")
    assert stored is not None and (stored["price"], stored["version"]) == ("999.00", 3)
    assert tables.order.outbox() == []


def test_a_price_event_from_another_source_is_parked_not_recorded(tables: Tables, context: LambdaContext) -> None:
    event = eventbridge(
        envelope(ProductPriced(product_id="A", name="x", price=Decimal("0.01"), version=99), order_id="A")
    )
    event["source"] = "shop.order"

    answer = on_product_priced.lambda_handler(sqs_event(json.dumps(event)), context)

    assert answer == {"batchItemFailures": []}  # parked, not retried
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName=f"{CONSUMER_QUEUE}-dlq")["QueueUrl"]
    [parked] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert "shop.order" in parked["MessageAttributes"]["FailureReason"]["StringValue"]
    assert tables.order.item("PRICE#A") is None

"""Write the sample events in `events/` from the contract models, so they are valid by construction.

    python -m tools.codegen.sample_events          # rewrite events/
    python -m tools.codegen.sample_events --check  # exit 1 if events/ differs from what the models give

Every file is a complete input: an EventBridge event per detail-type, the SQS batch a consumer
receives, an API Gateway proxy request per route, and a stream record for the outbox relay.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from shared.outbox import outbox_item
from shop_contracts.base import DomainEvent, LineItem, PricedLine
from shop_contracts.compensation import CompensationFailed
from shop_contracts.envelope import Envelope, EventMetadata, wrap
from shop_contracts.inventory import InventoryFailed, InventoryReleased, InventoryReserved, ProductPriced, Shortage
from shop_contracts.order import OrderCancelled, OrderConfirmed, OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed, PaymentRefunded, PaymentVoided

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ORDER_ID = "3f1c2a9e-7b4d-4e1a-9c55-0d2f6a8b1e42"
PAYMENT_ID = "pay-8c0e6f0a-51d2-4b7e-9a3f-2c7d9e1b4a60"
AT = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
LINES = (LineItem(product_id="PROD-001", quantity=2), LineItem(product_id="PROD-002", quantity=1))
PRICED_LINES = (
    PricedLine(product_id="PROD-001", quantity=2, unit_price=Decimal("1299.99")),
    PricedLine(product_id="PROD-002", quantity=1, unit_price=Decimal("199.99")),
)
TOTAL = Decimal("2799.97")
# The signed-in customer of the API samples (the `sub` of their ID token) and the owner of the sample order.
SAMPLE_CUSTOMER = "5d0c3f2a-8b1e-4c6d-9f7a-2e4b6c8d0a1f"
SAMPLE_SEALED_TOKEN = "AQICAHhSYW1wbGUgY2lwaGVydGV4dDogc2VhbGVkIGJ5IHRoZSBvcmRlciBBUEkncyBLTVMga2V5"

# (file name, event, the event id it reacted to)
SAMPLES: list[tuple[str, DomainEvent, str | None]] = [
    (
        "order/OrderCreated.json",
        OrderCreated(
            order_id=ORDER_ID,
            customer_id=SAMPLE_CUSTOMER,
            items=PRICED_LINES,
            total_amount=TOTAL,
            currency="USD",
            deadline=datetime(2026, 11, 22, 10, 5, 0, tzinfo=UTC),
            # What the order API's KMS seal looks like; only ciphertext sealed by a stack's own key opens
            # there (this placeholder is declined as payment_token_unreadable).
            encrypted_payment_token=SAMPLE_SEALED_TOKEN,
        ),
        None,
    ),
    (
        "payment/PaymentProcessed.json",
        PaymentProcessed(order_id=ORDER_ID, payment_id=PAYMENT_ID, amount=TOTAL, items=LINES),
        "e-order-created",
    ),
    ("payment/PaymentFailed.json", PaymentFailed(order_id=ORDER_ID, reason="card_declined"), "e-order-created"),
    ("inventory/InventoryReserved.json", InventoryReserved(order_id=ORDER_ID, items=LINES), "e-payment-processed"),
    (
        "inventory/InventoryFailed.json",
        InventoryFailed(
            order_id=ORDER_ID,
            reason="out_of_stock",
            shortages=(Shortage(product_id="PROD-002", requested=1, available=0),),
        ),
        "e-payment-processed",
    ),
    (
        "payment/PaymentRefunded.json",
        PaymentRefunded(order_id=ORDER_ID, payment_id=PAYMENT_ID, amount=TOTAL),
        "e-inventory-failed",
    ),
    (
        "payment/PaymentVoided.json",
        PaymentVoided(order_id=ORDER_ID, reason="cancelled_before_charge"),
        "e-order-cancelled",
    ),
    ("inventory/InventoryReleased.json", InventoryReleased(order_id=ORDER_ID, items=LINES), "e-order-cancelled"),
    ("order/OrderConfirmed.json", OrderConfirmed(order_id=ORDER_ID), "e-inventory-reserved"),
    ("order/OrderCancelled.json", OrderCancelled(order_id=ORDER_ID, reason="customer_request"), "e-order-created"),
    (
        "order/OrderCancelled.out_of_stock.json",
        OrderCancelled(order_id=ORDER_ID, reason="out_of_stock"),
        "e-inventory-failed",
    ),
    (
        "inventory/ProductPriced.json",
        ProductPriced(product_id="PROD-001", name="Premium Laptop", price=Decimal("1299.99"), version=1),
        None,
    ),
    (
        "payment/CompensationFailed.json",
        CompensationFailed.because(ORDER_ID, "refund_payment", "refund_rejected"),
        "e-order-cancelled",
    ),
]


def event_id_of(name: str) -> str:
    """A readable, stable event id for a sample file."""
    return "e-" + "".join("-" + c.lower() if c.isupper() else c for c in Path(name).stem.split(".")[0]).strip("-")


def eventbridge_event(name: str, data: DomainEvent, cause: str | None) -> dict[str, Any]:
    """The event as EventBridge delivers it to a rule target."""
    # A product's events belong to the product, not to an order's saga.
    correlation = data.product_id if isinstance(data, ProductPriced) else ORDER_ID
    metadata = EventMetadata(event_id=event_id_of(name), correlation_id=correlation, causation_id=cause, occurred_at=AT)
    envelope = wrap(data, metadata)
    return {
        "version": "0",
        "id": f"eb-{event_id_of(name)}",
        "detail-type": data.detail_type(),
        "source": data.source(),
        "account": "000000000000",
        "time": "2026-11-22T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": envelope.to_wire(),
    }


def sqs_batch(event: dict[str, Any]) -> dict[str, Any]:
    """The SQS batch a consumer function receives when its queue holds `event`."""
    return {
        "Records": [
            {
                "messageId": f"m-{event['id']}",
                "receiptHandle": "sample-receipt-handle",
                "body": json.dumps(event),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795341600000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795341600000",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:shop-saga-consumer-queue",
                "awsRegion": "us-east-1",
            }
        ]
    }


def api_request(
    method: str, resource: str, path: str, body: Any = None, *, caller: str = "customer", **params: str
) -> dict[str, Any]:
    """An API Gateway REST proxy request (format 1.0), as the authorizer hands it on: a customer's
    verified token claims, an operator's IAM identity, or nobody (the public catalogue)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    identity: dict[str, Any] = {"sourceIp": "127.0.0.1"}
    authorizer: dict[str, Any] = {}
    if caller == "customer":
        headers["Authorization"] = "Bearer <the customer's ID token>"
        authorizer = {"authorizer": {"claims": {"sub": SAMPLE_CUSTOMER, "token_use": "id"}}}
    elif caller == "operator":
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=..."
        identity["userArn"] = "arn:aws:iam::000000000000:user/operator"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "sample-request",
            "accountId": "000000000000",
            "apiId": "sample",
            "identity": identity,
            **authorizer,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def api_samples() -> dict[str, dict[str, Any]]:
    """One request per route, plus a rejected one."""
    order = {
        "items": [{"productId": "PROD-001", "quantity": 2}, {"productId": "PROD-002", "quantity": 1}],
        "totalAmount": "2799.97",
        "currency": "USD",
        "payment": {"token": "tok_ok"},
    }
    invalid = {"customerId": "me", "items": [{"productId": "PROD-001", "quantity": "2"}], "totalAmount": 12.5}
    product = {"name": "Premium Laptop", "price": "1299.99", "available": 50}
    return {
        "api/PlaceOrder.json": api_request("POST", "/orders", "/orders", order),
        "api/PlaceOrder.invalid.json": api_request("POST", "/orders", "/orders", invalid),
        "api/GetOrder.json": api_request("GET", "/orders/{orderId}", f"/orders/{ORDER_ID}", orderId=ORDER_ID),
        "api/CancelOrder.json": api_request(
            "POST", "/orders/{orderId}/cancel", f"/orders/{ORDER_ID}/cancel", orderId=ORDER_ID
        ),
        "api/GetProduct.json": api_request(
            "GET", "/products/{productId}", "/products/PROD-001", caller="anyone", productId="PROD-001"
        ),
        "api/PutProduct.json": api_request(
            "PUT", "/products/{productId}", "/products/PROD-001", product, caller="operator", productId="PROD-001"
        ),
        "api/RestockProduct.json": api_request(
            "POST",
            "/products/{productId}/restock",
            "/products/PROD-001/restock",
            {"quantity": 10},
            caller="operator",
            productId="PROD-001",
        ),
    }


def outbox_stream_record(event: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB stream batch with one outbox INSERT, as the relay receives it."""
    data_model = type(_sample_by_type(event["detail-type"]))
    envelope = Envelope[data_model].model_validate(event["detail"])  # type: ignore[valid-type]
    item = outbox_item(envelope)
    item["outboxAt"] = 1795946400
    serializer = TypeSerializer()
    return {
        "Records": [
            {
                "eventID": "sample-stream-record",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": serializer.serialize(item["pk"])},
                    "NewImage": {key: serializer.serialize(value) for key, value in item.items()},
                    "SequenceNumber": "100000000000000000001",
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/shop-saga-OrderTable/stream/sample",
            }
        ]
    }


def _sample_by_type(detail_type: str) -> DomainEvent:
    return next(data for _, data, _ in SAMPLES if data.detail_type() == detail_type)


def render() -> dict[str, str]:
    """Every sample file's path under events/ and its content."""
    files: dict[str, dict[str, Any]] = {}
    for name, data, cause in SAMPLES:
        event = eventbridge_event(name, data, cause)
        files[name] = event
        files[f"sqs/{Path(name).name}"] = sqs_batch(event)
    deadline = sqs_batch({"id": "deadline"})
    deadline["Records"][0]["body"] = json.dumps({"orderId": ORDER_ID})
    files["sqs/DeadlineReached.json"] = deadline
    files.update(api_samples())
    files["stream/OutboxInsert.json"] = outbox_stream_record(files["order/OrderCreated.json"])
    return {name: json.dumps(content, indent=2) + "\n" for name, content in sorted(files.items())}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report whether events/ is current")
    args = parser.parse_args(argv)
    rendered = render()
    stale = [
        name for name, text in rendered.items() if not (EVENTS / name).exists() or (EVENTS / name).read_text() != text
    ]
    if args.check:
        for name in stale:
            print(f"stale: events/{name} (run python -m tools.codegen.sample_events)")
        return 1 if stale else 0
    for name in stale:
        (EVENTS / name).parent.mkdir(parents=True, exist_ok=True)
        (EVENTS / name).write_text(rendered[name])
    print(f"wrote {len(stale)} of {len(rendered)} sample events under events/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Builders for unit tests: events in every form a function receives, and a Lambda context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from order.dal.order_repository import OrderUnitOfWork
from order.logic.record_price import record_price
from shared.payment_tokens import TokenSealer
from shop_contracts.base import DomainEvent, LineItem, PricedLine
from shop_contracts.envelope import Envelope, EventMetadata, caused_by, start_saga
from shop_contracts.inventory import ProductPriced
from shop_contracts.order import CancellationReason, OrderCancelled, OrderCreated
from tests.support.fakes import TOKENS


@dataclass
class FakeLambdaContext:
    """The parts of a Lambda context that Powertools reads."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test-function"
    aws_request_id: str = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def lines(*pairs: tuple[str, int]) -> tuple[LineItem, ...]:
    """`lines(("PROD-1", 2))` -> line items."""
    return tuple(LineItem(product_id=product, quantity=quantity) for product, quantity in pairs)


def priced(*lines_: LineItem, unit_price: str = "1299.99") -> tuple[PricedLine, ...]:
    """The lines with a unit price each, as OrderCreated carries them."""
    return tuple(
        PricedLine(product_id=line.product_id, quantity=line.quantity, unit_price=Decimal(unit_price))
        for line in lines_
    )


def catalogue(uow: OrderUnitOfWork, prices: dict[str, str]) -> None:
    """The order service's copy of the catalogue holds these prices, as their ProductPriced events leave it."""
    for product_id, price in prices.items():
        current = uow.prices.get(product_id)
        event = ProductPriced(
            product_id=product_id, name=product_id, price=Decimal(price), version=current.version + 1 if current else 1
        )
        record_price(envelope(event, order_id=product_id), uow=uow)


def envelope(data: DomainEvent, *, order_id: str | None = None, cause: EventMetadata | None = None) -> Envelope[Any]:
    """Wrap `data` as its producer would: first of a saga, or in reaction to `cause`."""
    if cause is not None:
        return caused_by(data, cause)
    return start_saga(data, correlation_id=order_id or str(getattr(data, "order_id", "saga-1")))


def eventbridge(env: Envelope[Any]) -> dict[str, Any]:
    """The envelope as an EventBridge rule target receives it."""
    return {
        "version": "0",
        "id": f"eb-{env.metadata.event_id}",
        "detail-type": env.data.detail_type(),
        "source": env.data.source(),
        "account": "000000000000",
        "time": "2026-11-22T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": env.to_wire(),
    }


# The queue every test batch comes from (component tests create it on moto, with its dead-letter queue).
CONSUMER_QUEUE = "consumer-queue"


def sqs_event(*bodies: Any, receive_count: int = 1) -> dict[str, Any]:
    """An SQS batch: envelopes become EventBridge events; strings are sent as they are (malformed input)."""
    records = []
    for index, body in enumerate(bodies):
        text = body if isinstance(body, str) else json.dumps(eventbridge(body) if isinstance(body, Envelope) else body)
        records.append(
            {
                "messageId": f"m-{index}",
                "receiptHandle": f"r-{index}",
                "body": text,
                "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{CONSUMER_QUEUE}",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: str | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    customer: str | None = None,
    operator: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy request; `customer` is the `sub` the user-pool authorizer verified,
    `operator` the IAM principal whose signature API Gateway verified."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": path,
            "stage": "v1",
            "requestId": "req",
            "accountId": "000000000000",
            "apiId": "api",
            "identity": {"userArn": operator, "caller": operator} if operator else {},
            **({"authorizer": {"claims": {"sub": customer, "token_use": "id"}}} if customer else {}),
        },
        "body": raw if raw is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def published(table: Any) -> list[tuple[str, dict[str, Any]]]:
    """What a service's table will publish: (detail-type, detail) per outbox record, oldest first."""
    records = [table.items[key] for key in table.keys("OUTBOX#")]
    return sorted(
        ((r["detailType"], json.loads(r["detail"])) for r in records), key=lambda r: r[1]["metadata"]["occurredAt"]
    )


def published_types(table: Any) -> list[str]:
    """The detail-types a service's table will publish, oldest first."""
    return [detail_type for detail_type, _ in published(table)]


def order_created(
    order_id: str = "o-1", token: str = "tok_ok", total: str = "2599.98", sealer: TokenSealer = TOKENS
) -> Envelope[Any]:
    """An OrderCreated for two units of PROD-001, due in five minutes, its token sealed by `sealer`."""
    return envelope(
        OrderCreated(
            order_id=order_id,
            customer_id="c-1",
            items=priced(*lines(("PROD-001", 2))),
            total_amount=Decimal(total),
            currency="USD",
            deadline=datetime.now(UTC) + timedelta(minutes=5),
            encrypted_payment_token=sealer.seal(token, order_id=order_id),
        )
    )


def order_cancelled(created: Envelope[Any], reason: CancellationReason = "customer_request") -> Envelope[Any]:
    """The cancellation of the order `created` started."""
    return envelope(OrderCancelled(order_id=created.data.order_id, reason=reason), cause=created.metadata)

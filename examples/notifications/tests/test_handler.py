"""The notifications consumer on moto: once per order outcome, whatever the bus repeats or replays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from shop_contracts.envelope import EventMetadata, caused_by
from shop_contracts.order import OrderCancelled, OrderConfirmed

from notifications import handler


class Context:
    function_name = "notify"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:notify"
    aws_request_id = "test"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("NOTIFICATIONS_TABLE_NAME", "notifications")
        created = boto3.resource("dynamodb").create_table(
            TableName="notifications",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        handler._table.cache_clear()
        yield created
        handler._table.cache_clear()


def bus_event(data: OrderConfirmed | OrderCancelled, **extra: Any) -> dict[str, Any]:
    """The event as the shop's bus delivers it, built with the shop's own models."""
    envelope = caused_by(data, EventMetadata(correlation_id=data.order_id))
    detail = envelope.to_wire()
    return {"source": "shop.order", "detail-type": type(data).__name__, "detail": detail, **extra}


def batch(*events: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": "r",
                "body": e if isinstance(e, str) else json.dumps(e),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
            }
            for i, e in enumerate(events)
        ]
    }


def items(table: Any) -> dict[str, dict[str, Any]]:
    return {item["pk"]: item for item in table.scan()["Items"]}


def test_each_outcome_notifies_once_with_its_message(table: Any) -> None:
    confirmed = bus_event(OrderConfirmed(order_id="o-1"))
    cancelled = bus_event(OrderCancelled(order_id="o-2", reason="out_of_stock"))

    answer = handler.lambda_handler(batch(confirmed, cancelled, confirmed), Context())

    assert answer == {"batchItemFailures": []}
    found = items(table)
    assert set(found) == {"NOTIFICATION#o-1#OrderConfirmed", "NOTIFICATION#o-2#OrderCancelled"}
    assert found["NOTIFICATION#o-2#OrderCancelled"]["message"] == (
        "Your order o-2 was cancelled (out_of_stock); any payment is refunded."
    )


def test_a_replayed_event_notifies_nobody_again(table: Any) -> None:
    original = bus_event(OrderConfirmed(order_id="o-3"))
    handler.lambda_handler(batch(original), Context())
    [first] = items(table).values()

    handler.lambda_handler(batch(original, {**original, "replay-name": "after-the-fix"}), Context())

    assert list(items(table).values()) == [first]  # not written again: same notifiedAt, no replayName


def test_a_replayed_event_the_team_never_saw_is_recorded_as_a_replay(table: Any) -> None:
    handler.lambda_handler(batch(bus_event(OrderConfirmed(order_id="o-6"), **{"replay-name": "r1"})), Context())

    [item] = items(table).values()
    assert item["replayName"] == "r1"


def test_a_later_event_version_is_skipped(table: Any) -> None:
    later = bus_event(OrderConfirmed(order_id="o-7"))
    later["detail"]["metadata"]["eventVersion"] = 2

    assert handler.lambda_handler(batch(later), Context()) == {"batchItemFailures": []}
    assert items(table) == {}


def test_a_malformed_event_fails_alone_and_writes_nothing(table: Any) -> None:
    good = bus_event(OrderConfirmed(order_id="o-4"))
    wrong = {"source": "shop.order", "detail-type": "OrderConfirmed", "detail": {"data": {"orderId": "o-5"}}}

    answer = handler.lambda_handler(batch("{not json", wrong, good), Context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
    assert set(items(table)) == {"NOTIFICATION#o-4#OrderConfirmed"}

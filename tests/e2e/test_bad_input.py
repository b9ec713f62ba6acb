"""Bad input on the running stack: a clear error, nothing written, nothing published, nothing blocked."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable

import boto3

from shopctl.stack import ApiClient, stack_queues
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import place, settle


def orders_and_keys(outputs: dict[str, str]) -> int:
    """Orders and stored responses in the order table (its outbox rows come and go as the relay works)."""
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=outputs["OrderTableName"],
            Select="COUNT",
            FilterExpression="begins_with(pk, :order) OR begins_with(pk, :key)",
            ExpressionAttributeValues={":order": {"S": "ORDER#"}, ":key": {"S": "IDEMPOTENCY#"}},
        )
    )
    return sum(int(page["Count"]) for page in pages)


def test_an_invalid_order_names_each_bad_field_and_writes_nothing(api: ApiClient, outputs: dict[str, str]) -> None:
    before = orders_and_keys(outputs)

    result = api.call(
        "POST",
        "/orders",
        {
            "items": [{"productId": "P", "quantity": "2"}],
            "totalAmount": 12.5,
            "payment": {"token": "tok_ok"},
            "extra": 1,
        },
    )

    assert result.status == 400
    assert result.headers["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in result.body["errors"]} == {"items[0].quantity", "totalAmount", "extra"}
    time.sleep(1)
    assert orders_and_keys(outputs) == before


def test_wrong_content_type_and_oversized_bodies_are_refused(api: ApiClient) -> None:
    assert api.call("POST", "/orders", raw=b"{}", headers={"Content-Type": "text/plain"}).status == 415
    big = json.dumps({"padding": "x" * 70_000}).encode()
    assert api.call("POST", "/orders", raw=big).status == 413
    assert api.call("GET", f"/orders/{uuid.uuid4()}").status == 404


def test_idempotent_replay_and_conflict(api: ApiClient, bus: BusListener, new_product: Callable[..., str]) -> None:
    body = {
        "items": [{"productId": new_product(5), "quantity": 1}],
        "totalAmount": "10.00",
        "payment": {"token": "tok_ok"},
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = api.call("POST", "/orders", body, headers=key)
    again = api.call("POST", "/orders", body, headers=key)
    other = api.call("POST", "/orders", {**body, "totalAmount": "11.00"}, headers=key)

    assert (first.status, again.status, other.status) == (201, 201, 409)
    assert again.body == first.body
    order_id = first.body["orderId"]
    settle(api, bus, order_id)
    assert bus.types(order_id).count("OrderCreated") == 1


def test_a_malformed_event_on_the_bus_is_parked_with_its_reason_and_blocks_nothing(
    api: ApiClient, bus: BusListener, outputs: dict[str, str], new_product: Callable[..., str]
) -> None:
    sqs = boto3.client("sqs")
    dlq = stack_queues(os.environ["AWS_SAM_STACK_NAME"])["PaymentOnOrderCreatedDeadLetterQueue"]
    assert dlq in outputs["DeadLetterQueueUrls"].split(",")
    poison_id = uuid.uuid4().hex
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": outputs["EventBusName"],
                "Source": "shop.order",
                "DetailType": "OrderCreated",
                "Detail": json.dumps({"metadata": {"eventId": poison_id}, "data": {"orderId": poison_id}}),
            }
        ]
    )
    order_id = place(api, [(new_product(5), 1)], "10.00")

    def parked() -> dict[str, str] | None:
        for message in sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", []):
            if poison_id in message["Body"]:
                return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        return None

    attributes = wait_for(parked, timeout=60, what="the poison event in the DLQ")
    assert "OrderCreated detail is invalid" in attributes["FailureReason"]
    assert "metadata.correlationId" in attributes["FailureReason"]
    assert settle(api, bus, order_id)["status"] == "CONFIRMED"

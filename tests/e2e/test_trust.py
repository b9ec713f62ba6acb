"""Only the owner speaks for a service. On AWS the bus policy refuses a service's source from anyone but
its publisher role (a template test holds that; the local cloud stores no bus policy). Here every event
below is put on the bus by a non-owner, so what stops it is each consumer deciding by its own state."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import available, money, place, settle


def forge(outputs: dict[str, str], source: str, detail_type: str, order_id: str, data: dict[str, Any]) -> str:
    """Put an event on the bus as someone who is not its owner; returns its event id."""
    event_id = f"forged-{uuid.uuid4()}"
    detail = {
        "metadata": {
            "eventId": event_id,
            "eventVersion": 1,
            "correlationId": order_id,
            "causationId": "forged",
            "occurredAt": datetime.now(UTC).isoformat(),
        },
        "data": {"orderId": order_id, **data},
    }
    entry: Any = {
        "EventBusName": outputs["EventBusName"],
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
    }
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    return event_id


def item(outputs: dict[str, str], table: str, key: str) -> dict[str, Any]:
    found = (
        boto3.resource("dynamodb").Table(outputs[f"{table}TableName"]).get_item(Key={"pk": key}, ConsistentRead=True)
    )
    return found.get("Item") or {}


def test_a_forged_cancel_of_a_confirmed_order_refunds_and_releases_nothing(
    api: ApiClient, bus: BusListener, outputs: dict[str, str], new_product: Callable[..., str]
) -> None:
    product = new_product(5)
    order_id = place(api, [(product, 2)], "20.00")
    assert settle(api, bus, order_id)["status"] == "CONFIRMED"
    # Payment and inventory have seen the confirmation (their own state now says so).
    wait_for(lambda: item(outputs, "Payment", f"PAYMENT#{order_id}").get("status") == "SETTLED" or None, what="settled")
    wait_for(
        lambda: item(outputs, "Inventory", f"RESERVATION#{order_id}").get("status") == "COMMITTED" or None,
        what="committed",
    )

    forge(outputs, "shop.order", "OrderCancelled", order_id, {"reason": "customer_request"})
    forge(
        outputs,
        "shop.inventory",
        "InventoryFailed",
        order_id,
        {"reason": "out_of_stock", "shortages": [{"productId": product, "requested": 2, "available": 0}]},
    )
    time.sleep(8)

    assert money(bus, order_id) == 20
    assert available(api, product) == 3
    assert not {"PaymentRefunded", "InventoryReleased"} & set(bus.types(order_id))
    assert api.call("GET", f"/orders/{order_id}").body["status"] == "CONFIRMED"


def test_a_forged_reservation_confirms_no_unpaid_order(
    api: ApiClient, outputs: dict[str, str], new_product: Callable[..., str]
) -> None:
    product = new_product(5)
    order_id = place(api, [(product, 1)], "10.00", token="tok_pending")  # never paid

    forge(outputs, "shop.inventory", "InventoryReserved", order_id, {"items": [{"productId": product, "quantity": 1}]})
    time.sleep(8)

    assert api.call("GET", f"/orders/{order_id}").body["status"] == "PENDING"
    assert item(outputs, "Order", f"ORDER#{order_id}").get("reserved") is True  # noted, not acted on
    assert api.call("POST", f"/orders/{order_id}/cancel").status == 202


def test_an_outbox_row_in_another_services_name_is_refused_by_the_relay(
    bus: BusListener, outputs: dict[str, str]
) -> None:
    order_id, event_id = str(uuid.uuid4()), f"foreign-{uuid.uuid4()}"
    detail = {
        "metadata": {
            "eventId": event_id,
            "eventVersion": 1,
            "correlationId": order_id,
            "causationId": "x",
            "occurredAt": datetime.now(UTC).isoformat(),
        },
        "data": {"orderId": order_id, "reason": "card_declined"},
    }
    # Whoever can write the order table tries to speak for payment.
    boto3.resource("dynamodb").Table(outputs["OrderTableName"]).put_item(
        Item={
            "pk": f"OUTBOX#{event_id}",
            "source": "shop.payment",
            "detailType": "PaymentFailed",
            "detail": json.dumps(detail),
            "outboxState": "PENDING",
            "outboxAt": int(time.time()),
        }
    )

    wait_for(lambda: not item(outputs, "Order", f"OUTBOX#{event_id}") or None, what="the row removed by the relay")
    time.sleep(3)
    assert bus.events(order_id) == []
    sqs = boto3.client("sqs")
    relay_dlq = next(url for url in outputs["DeadLetterQueueUrls"].split(",") if "RelayDeadLetter" in url)
    reasons = []
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=relay_dlq, MaxNumberOfMessages=10, VisibilityTimeout=2, MessageAttributeNames=["All"]
        ).get("Messages", []):
            if event_id in message["Body"]:
                reasons.append(message["MessageAttributes"]["FailureReason"]["StringValue"])
        if reasons:
            break
    assert reasons and "only shop.order" in reasons[0]

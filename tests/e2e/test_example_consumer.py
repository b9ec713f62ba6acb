"""The example consumer team (examples/notifications), deployed from its own template beside the shop by
tools/dev/e2e: it receives the shop's OrderConfirmed and OrderCancelled through the consumer building
block, and a redelivered or replayed event notifies nobody twice."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from shopctl.stack import ApiClient, stack_outputs
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import place, settle


@pytest.fixture(scope="module")
def team() -> dict[str, str]:
    name = os.environ.get("EXAMPLE_STACK_NAME")
    if not name:
        pytest.fail("EXAMPLE_STACK_NAME is not set: tools/dev/e2e deploys examples/notifications and names it")
    return stack_outputs(name)


def notifications(team: dict[str, str], order_id: str) -> dict[str, dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(team["NotificationsTableName"])
    found = table.scan()["Items"]
    return {str(item["pk"]): item for item in found if item["orderId"] == order_id}


def test_the_team_is_told_of_a_confirmed_and_a_cancelled_order(
    api: ApiClient, bus: BusListener, team: dict[str, str], new_product: Callable[..., str]
) -> None:
    confirmed = place(api, [(new_product(5), 1)], "10.00")
    declined = place(api, [(new_product(5), 1)], "10.00", token="tok_decline")

    assert settle(api, bus, confirmed)["status"] == "CONFIRMED"
    assert settle(api, bus, declined)["status"] == "CANCELLED"

    told = wait_for(lambda: notifications(team, confirmed) or None, what="the team's notification of the confirmation")
    assert set(told) == {f"NOTIFICATION#{confirmed}#OrderConfirmed"}
    assert told[f"NOTIFICATION#{confirmed}#OrderConfirmed"]["eventId"] == next(
        e["detail"]["metadata"]["eventId"] for e in bus.events(confirmed) if e["detail-type"] == "OrderConfirmed"
    )
    told = wait_for(lambda: notifications(team, declined) or None, what="the team's notification of the cancellation")
    assert told[f"NOTIFICATION#{declined}#OrderCancelled"]["message"] == (
        f"Your order {declined} was cancelled (payment_declined); any payment is refunded."
    )


def test_a_redelivered_and_a_replayed_event_notify_nobody_twice(
    api: ApiClient, bus: BusListener, team: dict[str, str], new_product: Callable[..., str]
) -> None:
    order_id = place(api, [(new_product(5), 1)], "10.00")
    settle(api, bus, order_id)
    [first] = wait_for(lambda: list(notifications(team, order_id).values()) or None, what="the notification")
    [event] = [e for e in bus.events(order_id) if e["detail-type"] == "OrderConfirmed"]

    sqs = boto3.client("sqs")
    for copy in (event, {**event, "replay-name": "e2e-replay"}):
        sqs.send_message(QueueUrl=team["QueueUrl"], MessageBody=json.dumps(copy))

    def drained() -> bool | None:
        attributes = sqs.get_queue_attributes(
            QueueUrl=team["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return True if not any(int(v) for v in attributes.values()) else None

    wait_for(drained, what="the team's queue drained")
    assert list(notifications(team, order_id).values()) == [first]
    dead = sqs.get_queue_attributes(QueueUrl=team["DeadLetterQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0"

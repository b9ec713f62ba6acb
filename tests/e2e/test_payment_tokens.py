"""Payment tokens never travel in clear: a catch-all subscriber, as a new consumer team would add one, sees
only ciphertext on every saga path, and neither the API's answers, the DLQs nor the logs carry a token.
Payment still charges, declines and refunds with the tokens it opens."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3

from shopctl.redrive import redrives_of_stack
from shopctl.stack import ApiClient
from tests.e2e.saga import money, place, settle
from tests.support.bus import BusSubscriber
from tools.dev.localcloud import state_dir

CLEAR_TOKEN = re.compile(r"\btok_[A-Za-z0-9_]+")


def _log() -> Path:
    port = urlparse(os.environ["AWS_ENDPOINT_URL"]).port
    assert port is not None
    return state_dir(port) / "ministack.log"


def _token_fields(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {key for key in node if "token" in key.lower()}
        return found.union(*(_token_fields(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_token_fields(value) for value in node))
    return set()


def _dead_letters() -> list[dict[str, Any]]:
    """Every message waiting in a consumer DLQ, left where it is (visible again at once)."""
    sqs, found = boto3.client("sqs"), list[Any]()
    for target in redrives_of_stack(os.environ["AWS_SAM_STACK_NAME"]):
        batch = sqs.receive_message(
            QueueUrl=target.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        )
        found += batch.get("Messages", [])
    return found


def test_no_subscriber_sees_a_payment_token_on_any_saga_path(
    api: ApiClient, outputs: dict[str, str], new_product: Callable[..., str]
) -> None:
    log_start = _log().stat().st_size
    subscriber = BusSubscriber(outputs["EventBusName"], prefix="e2e-catch-all")
    try:
        plenty, none = new_product(50), new_product(0)
        orders = {
            "confirmed": place(api, [(plenty, 1)], "10.00", token="tok_ok"),
            "declined": place(api, [(plenty, 1)], "10.00", token="tok_decline"),
            "refunded": place(api, [(none, 1)], "10.00", token="tok_ok"),
            "refund refused": place(api, [(none, 1)], "10.00", token="tok_refund_fail"),
            "customer cancel": place(api, [(plenty, 1)], "10.00", token="tok_pending"),
        }
        assert api.call("POST", f"/orders/{orders['customer cancel']}/cancel").status == 202
        settled = {path: settle(api, subscriber, order_id, timeout=180) for path, order_id in orders.items()}

        # Payment still works with the tokens it opens.
        outcomes = {path: (o["status"], o["cancellationReason"], o["saga"]["status"]) for path, o in settled.items()}
        assert outcomes == {
            "confirmed": ("CONFIRMED", None, "COMPLETED"),
            "declined": ("CANCELLED", "payment_declined", "CANCELLED"),
            "refunded": ("CANCELLED", "out_of_stock", "CANCELLED"),
            "refund refused": ("CANCELLED", "out_of_stock", "COMPENSATION_FAILED"),
            "customer cancel": ("CANCELLED", "customer_request", "CANCELLED"),
        }
        assert [money(subscriber, orders[path]) for path in ("confirmed", "refunded", "refund refused")] == [10, 0, 10]

        events = [event for order_id in orders.values() for event in subscriber.events(order_id)]
        assert {e["detail-type"] for e in events} >= {
            "OrderCreated",
            "PaymentProcessed",
            "PaymentFailed",
            "PaymentRefunded",
            "InventoryReserved",
            "InventoryFailed",
            "OrderConfirmed",
            "OrderCancelled",
            "CompensationFailed",
        }
        created = [e["detail"]["data"] for e in events if e["detail-type"] == "OrderCreated"]
        assert len(created) == len(orders)
        assert all(len(data["encryptedPaymentToken"]) > 40 for data in created)
        assert _token_fields(events) == {"encryptedPaymentToken"}
        assert not CLEAR_TOKEN.search(json.dumps(events))

        answers = [api.call("GET", f"/orders/{order_id}").body for order_id in orders.values()]
        assert not CLEAR_TOKEN.search(json.dumps(answers)) and not _token_fields(answers)
        assert not CLEAR_TOKEN.search(json.dumps(_dead_letters()))
        # Every consumer's log lines since this test began (the local cloud keeps them in one file).
        with _log().open("rb") as log:
            log.seek(log_start)
            written = log.read().decode(errors="replace")
        assert "order charged" in written  # the payment consumer's lines are there to scan
        assert not CLEAR_TOKEN.search(written), CLEAR_TOKEN.search(written)
    finally:
        subscriber.close()

"""A compensation that keeps failing is not swallowed: retried, reported, parked in a DLQ, redrivable."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import boto3

from shared.testing.faults import PLAN_CACHE_SECONDS
from shopctl.redrive import count, redrive, redrives_of_stack
from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import money, place, settle


def test_a_refund_the_gateway_keeps_refusing_surfaces_as_compensation_failed(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    product = new_product(0)  # out of stock: the charge must be refunded, and tok_refund_fail refuses

    order_id = place(api, [(product, 1)], "10.00", token="tok_refund_fail")
    order = settle(api, bus, order_id, timeout=180)

    assert order["status"] == "CANCELLED"
    assert order["saga"]["status"] == "COMPENSATION_FAILED"
    # A code, never the provider's text; the customer reads a fixed sentence.
    assert order["saga"]["failureReason"] == "compensation_failed: refund_rejected"
    assert "Returning your payment is taking longer than usual" in order["message"]
    [failure] = [e for e in bus.events(order_id) if e["detail-type"] == "CompensationFailed"]
    assert failure["source"] == "shop.payment" and failure["detail"]["data"]["step"] == "refund_payment"
    assert failure["detail"]["data"]["reasonCode"] == "refund_rejected"
    assert money(bus, order_id) == 10  # still held: that is what operators are alerted to

    sqs = boto3.client("sqs")
    parked = {t.consumer: t for t in redrives_of_stack(os.environ["AWS_SAM_STACK_NAME"])}
    refunds = parked["PaymentOnOrderCancelled"]
    # The one refund trigger (OrderCancelled) failed for good: it waits in its DLQ.
    wait_for(
        lambda: count(sqs, refunds.dead_letter_queue_url) or None,
        timeout=90,
        what="the failed refund in its dead-letter queue",
    )

    # After a fix, operators move it back for another try; the command says how many it moved.
    assert redrive(sqs, refunds).moved >= 1
    assert count(sqs, refunds.dead_letter_queue_url) == 0


def test_a_refund_dead_lettered_without_a_word_is_reported_from_its_queue_then_redriven(
    api: ApiClient, bus: BusListener, outputs: dict[str, str], new_product: Callable[..., str]
) -> None:
    # The refund consumer is down (the test stack's fault seams): every delivery fails before it can
    # report, as a timeout or a crash would, so the message reaches its DLQ silently.
    plan = boto3.resource("dynamodb").Table(outputs["TestSeamsTableName"])
    plan.put_item(Item={"pk": "FAULTS", "plan": {"outages": {"PaymentOnOrderCancelled": 600}}})
    # A worker reads the plan at most once every PLAN_CACHE_SECONDS: until then a consumer that read it just
    # before may still refund (a saga out of stock is cancelled within a second or two now).
    time.sleep(2 * PLAN_CACHE_SECONDS)
    try:
        order_id = place(api, [(new_product(0), 1)], "10.00")  # out of stock: its charge must be refunded

        def shown_as(status: str) -> Callable[[], dict[str, Any] | None]:
            def check() -> dict[str, Any] | None:
                order = api.call("GET", f"/orders/{order_id}").body
                return order if (order.get("saga") or {}).get("status") == status else None

            return check

        # Three deliveries (10 s apart), then the reporter's next minute.
        order = wait_for(
            shown_as("COMPENSATION_FAILED"), timeout=180, every=2, what="the dead-lettered refund reported"
        )
    finally:
        plan.delete_item(Key={"pk": "FAULTS"})
    assert order["saga"]["failureReason"] == "compensation_failed: dead_lettered"
    assert "Part of undoing it is delayed" in order["message"]
    [failure] = [e for e in bus.events(order_id) if e["detail-type"] == "CompensationFailed"]
    assert failure["detail"]["data"]["reasonCode"] == "dead_lettered"
    assert money(bus, order_id) == 10

    # The consumer is back: the redrive refunds, and the saga's failure is resolved.
    sqs = boto3.client("sqs")
    refunds = {t.consumer: t for t in redrives_of_stack(os.environ["AWS_SAM_STACK_NAME"])}["PaymentOnOrderCancelled"]
    assert redrive(sqs, refunds).moved >= 1
    order = wait_for(shown_as("CANCELLED"), timeout=90, what="the redriven refund")
    assert money(bus, order_id) == 0
    assert (
        order["message"]
        == "An item ran out of stock, so the order was cancelled and any payment taken is being returned."
    )

"""A compensation that keeps failing is not swallowed: retried, reported, parked in a DLQ, redrivable."""

from __future__ import annotations

import os
from collections.abc import Callable

import boto3

from scripts.redrive import count, redrive, redrives_of_stack
from scripts.stack import ApiClient
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
    assert "rejected the refund" in order["saga"]["failureReason"]
    [failure] = [e for e in bus.events(order_id) if e["detail-type"] == "CompensationFailed"]
    assert failure["source"] == "shop.payment" and failure["detail"]["data"]["step"] == "refund_payment"
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

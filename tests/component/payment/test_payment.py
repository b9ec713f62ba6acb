"""The payment service: one charge per order, one refund per charge, and nothing charged after a cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers import on_order_cancelled, on_order_created
from payment.models.gateway import Decision, SimulatedGateway
from tests.component.conftest import Tables
from tests.support.builders import order_cancelled, order_created, sqs_event


def payment(tables: Tables, order_id: str = "o-1") -> dict[str, Any]:
    record = tables.payment.item(f"PAYMENT#{order_id}")
    assert record is not None, f"no payment record for {order_id}"
    return record


def test_an_approved_order_is_charged_its_total(tables: Tables, context: LambdaContext) -> None:
    created = order_created(sealer=tables.tokens)

    on_order_created.lambda_handler(sqs_event(created), context)

    record = payment(tables)
    assert record["status"] == "CHARGED" and record["amount"] == "2599.98"
    [(detail_type, detail)] = tables.payment.outbox()
    assert detail_type == "PaymentProcessed"
    assert detail["data"]["amount"] == "2599.98"
    assert detail["data"]["items"] == [{"productId": "PROD-001", "quantity": 2}]
    assert detail["metadata"]["causationId"] == created.metadata.event_id
    assert detail["metadata"]["correlationId"] == "o-1"


def test_a_declined_token_fails_the_payment(tables: Tables, context: LambdaContext) -> None:
    on_order_created.lambda_handler(sqs_event(order_created(token="tok_decline", sealer=tables.tokens)), context)

    assert payment(tables)["status"] == "DECLINED"
    [(detail_type, detail)] = tables.payment.outbox()
    assert detail_type == "PaymentFailed" and detail["data"]["reason"] == "card_declined"


def test_an_order_delivered_three_times_is_charged_once(tables: Tables, context: LambdaContext) -> None:
    created = order_created(sealer=tables.tokens)

    on_order_created.lambda_handler(sqs_event(created, created), context)
    on_order_created.lambda_handler(sqs_event(created), context)

    assert tables.payment.published() == ["PaymentProcessed"]


def test_a_cancel_refunds_the_charge_once(tables: Tables, context: LambdaContext) -> None:
    created = order_created(sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)
    cancel = order_cancelled(created, "out_of_stock")

    on_order_cancelled.lambda_handler(sqs_event(cancel, cancel), context)
    on_order_cancelled.lambda_handler(sqs_event(cancel), context)

    assert payment(tables)["status"] == "REFUNDED"
    assert tables.payment.published() == ["PaymentProcessed", "PaymentRefunded"]
    refunded = tables.payment.outbox()[1][1]["data"]
    assert refunded["amount"] == "2599.98"


def test_a_cancel_of_a_declined_order_has_nothing_to_refund(tables: Tables, context: LambdaContext) -> None:
    created = order_created(token="tok_decline", sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)

    on_order_cancelled.lambda_handler(sqs_event(order_cancelled(created, "payment_declined")), context)

    assert payment(tables)["status"] == "DECLINED"
    assert tables.payment.published() == ["PaymentFailed"]


def test_a_cancel_that_arrives_before_the_order_voids_it(tables: Tables, context: LambdaContext) -> None:
    created = order_created(sealer=tables.tokens)

    on_order_cancelled.lambda_handler(sqs_event(order_cancelled(created)), context)
    on_order_created.lambda_handler(sqs_event(created), context)

    assert payment(tables)["status"] == "VOIDED"
    assert tables.payment.published() == []


def test_a_rejected_refund_is_retried_then_reported_as_compensation_failed(
    tables: Tables, context: LambdaContext
) -> None:
    created = order_created(token="tok_refund_fail", sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)
    cancel = order_cancelled(created)

    early = on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=1), context)
    assert early == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert payment(tables)["status"] == "REFUNDING"  # claimed; the retry calls the gateway with the same key
    # SQS redelivers after the visibility timeout (a minute): the claim is that much older by then.
    tables.payment._table.update_item(
        Key={"pk": "PAYMENT#o-1"},
        UpdateExpression="SET claimedAt = claimedAt - :minute",
        ExpressionAttributeValues={":minute": 60},
    )

    last = on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=3), context)

    assert last == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}  # so SQS moves it to the DLQ
    assert payment(tables)["status"] == "REFUND_FAILED"
    assert tables.payment.published() == ["PaymentProcessed", "CompensationFailed"]
    failure = tables.payment.outbox()[1][1]["data"]
    assert failure["step"] == "refund_payment" and "rejected" in failure["reason"]


def charge(gateway: SimulatedGateway, key: str, token: str = "tok_ok") -> Decision:
    return gateway.charge(idempotency_key=key, token=token, amount=Decimal("1.00"))


@pytest.mark.parametrize(("rate", "declined"), [(0.0, 0), (1.0, 200)])
def test_the_decline_rate_declines_that_share_deterministically(rate: float, declined: int) -> None:
    gateway = SimulatedGateway(decline_rate=rate)
    results = [charge(gateway, f"o-{i}").approved for i in range(200)]
    assert results.count(False) == declined
    assert results == [charge(gateway, f"o-{i}").approved for i in range(200)]


def test_half_the_orders_are_declined_at_rate_one_half() -> None:
    gateway = SimulatedGateway(decline_rate=0.5)
    declined = sum(not charge(gateway, f"o-{i}").approved for i in range(1000))
    assert 420 < declined < 580


def test_an_unknown_token_is_declined() -> None:
    decision = charge(SimulatedGateway(), "o-1", token="tok_mystery")
    assert not decision.approved and decision.reason == "invalid_token"


def test_a_pending_authorisation_charges_nothing_and_is_voided_by_the_cancel(
    tables: Tables, context: LambdaContext
) -> None:
    created = order_created(token="tok_pending", sealer=tables.tokens)

    on_order_created.lambda_handler(sqs_event(created), context)
    assert payment(tables)["status"] == "PENDING"
    on_order_cancelled.lambda_handler(sqs_event(order_cancelled(created, "timeout")), context)

    assert payment(tables)["status"] == "VOIDED"
    assert tables.payment.published() == []


def test_with_the_guards_switched_off_a_duplicate_charges_twice(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The negative control of the fault suite relies on this: without the guards, duplicates do harm.
    monkeypatch.setenv("DEDUPE_EVENTS", "false")
    from payment.handlers import wiring
    from shared import seams

    seams.seam_settings.cache_clear()
    wiring.unit_of_work.cache_clear()
    created = order_created(sealer=tables.tokens)

    on_order_created.lambda_handler(sqs_event(created, created), context)

    assert tables.payment.published() == ["PaymentProcessed", "PaymentProcessed"]

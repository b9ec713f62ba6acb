"""The payment service: one charge per order, one refund per charge, and nothing charged after a cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from payment.handlers import on_order_cancelled, on_order_created
from payment.handlers.wiring import wiring
from payment.models.gateway import Decision, RefundRejected, SimulatedGateway
from shared import environment
from shared.errors import WriteContention
from shared.storage.dynamodb import ReadAhead
from tests.component.conftest import Tables, dynamodb_calls
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
    assert tables.payment.published() == ["PaymentVoided"]


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


def a_minute_passes(tables: Tables, order_id: str = "o-1") -> None:
    """SQS redelivers after the visibility timeout (a minute): the claim is that much older by then."""
    tables.payment._table.update_item(
        Key={"pk": f"PAYMENT#{order_id}"},
        UpdateExpression="SET claimedAt = claimedAt - :minute",
        ExpressionAttributeValues={":minute": 60},
        ConditionExpression="attribute_exists(claimedAt)",
    )


class AnswersLost(SimulatedGateway):
    """Takes the money, then its answer is lost (a timeout), for the first `lost` calls."""

    def __init__(self, lost: int) -> None:
        super().__init__()
        self.lost, self.calls = lost, 0

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
        decision = super().charge(idempotency_key=idempotency_key, token=token, amount=amount)
        self.calls += 1
        if self.calls <= self.lost:
            raise TimeoutError("Read timed out. (read timeout=10)")
        return decision


def test_a_charge_whose_answers_were_lost_is_settled_by_its_last_delivery_asking_again(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = AnswersLost(lost=3)  # every delivery's answer: 1, 2 and the last one's charge
    monkeypatch.setattr(wiring, "gateway", gateway)
    created = order_created(sealer=tables.tokens)

    for attempt in (1, 2):
        assert on_order_created.lambda_handler(sqs_event(created, receive_count=attempt), context)["batchItemFailures"]
        assert payment(tables)["status"] == "CHARGING"
        a_minute_passes(tables)
    on_order_created.lambda_handler(sqs_event(created, receive_count=3), context)

    assert payment(tables)["status"] == "CHARGED"  # the same key: charged once, and now known
    assert tables.payment.published() == ["PaymentProcessed"]
    assert gateway.calls == 4


def test_a_charge_nobody_can_answer_is_declined_as_unknown_and_its_refund_is_reported(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = AnswersLost(lost=99)
    monkeypatch.setattr(wiring, "gateway", gateway)
    created = order_created(sealer=tables.tokens)
    for attempt in (1, 2, 3):
        on_order_created.lambda_handler(sqs_event(created, receive_count=attempt), context)
        a_minute_passes(tables)

    assert payment(tables)["status"] == "OUTCOME_UNKNOWN"
    [(_, failed)] = tables.payment.outbox()
    assert failed["data"]["reason"] == "payment_outcome_unknown"  # the order service cancels the order
    on_order_cancelled.lambda_handler(sqs_event(order_cancelled(created, "payment_declined")), context)

    assert tables.payment.published() == ["PaymentFailed", "CompensationFailed"]
    reported = tables.payment.outbox()[1][1]["data"]
    assert (reported["step"], reported["reasonCode"]) == ("refund_payment", "charge_outcome_unknown")


def test_a_refund_meeting_a_charge_still_undecided_on_its_last_delivery_is_reported(
    tables: Tables, context: LambdaContext
) -> None:
    created = order_created(sealer=tables.tokens)
    tables.payment._table.put_item(
        Item={"pk": "PAYMENT#o-1", "orderId": "o-1", "status": "CHARGING", "amount": "2599.98", "claimedAt": 0}
    )
    cancel = order_cancelled(created)
    assert on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=1), context)["batchItemFailures"]
    assert tables.payment.published() == []

    on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=3), context)

    [(detail_type, reported)] = tables.payment.outbox()
    assert (detail_type, reported["data"]["reasonCode"]) == ("CompensationFailed", "charge_outcome_unknown")


def test_a_refund_failure_publishes_a_code_never_the_errors_text(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    leak = (
        "User: arn:aws:sts::123456789012:assumed-role/shop-PaymentRole/fn is not authorized to perform: "
        "dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/shop-PaymentTable"
    )

    class Leaky(SimulatedGateway):
        def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
            raise RefundRejected(leak)

    created = order_created(sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)
    monkeypatch.setattr(wiring, "gateway", Leaky())

    on_order_cancelled.lambda_handler(sqs_event(order_cancelled(created), receive_count=3), context)

    [_, (detail_type, reported)] = tables.payment.outbox()
    assert detail_type == "CompensationFailed"
    assert (reported["data"]["reason"], reported["data"]["reasonCode"]) == ("refund_rejected", "refund_rejected")
    assert "123456789012" not in str(tables.payment.items())  # neither the event nor the payment record


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
    assert tables.payment.published() == ["PaymentVoided"]


def test_with_the_guards_switched_off_a_duplicate_charges_twice(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The negative control of the fault suite relies on this: without the guards, duplicates do harm.
    monkeypatch.setenv("ONCE_ONLY_GUARDS", "false")
    environment.reset()
    created = order_created(sealer=tables.tokens)

    on_order_created.lambda_handler(sqs_event(created, created), context)

    assert tables.payment.published() == ["PaymentProcessed", "PaymentProcessed"]


def test_a_batch_of_cancels_reads_its_payments_in_one_call_and_refunds_each_once(
    tables: Tables, context: LambdaContext
) -> None:
    created = [order_created(order_id, sealer=tables.tokens) for order_id in ("o-1", "o-2", "o-3")]
    on_order_created.lambda_handler(sqs_event(*created), context)
    first, second, third = (order_cancelled(order, "out_of_stock") for order in created)

    # The first order's cancel twice in the batch: its second delivery must see the first one's refund.
    with dynamodb_calls() as calls:
        response = on_order_cancelled.lambda_handler(sqs_event(first, second, first, third), context)

    assert response == {"batchItemFailures": []}
    assert calls[0] == "BatchGetItem"
    # Read ahead: no read of its own for any payment, but the one the batch wrote before it came up again.
    assert calls.count("GetItem") == 1
    assert [payment(tables, order_id)["status"] for order_id in ("o-1", "o-2", "o-3")] == ["REFUNDED"] * 3
    assert sorted(tables.payment.published()) == ["PaymentProcessed"] * 3 + ["PaymentRefunded"] * 3


def test_a_batch_whose_read_ahead_fails_is_applied_record_by_record(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = [order_created(order_id, sealer=tables.tokens) for order_id in ("o-1", "o-2")]
    on_order_created.lambda_handler(sqs_event(*created), context)

    def unavailable(self: ReadAhead, keys: Any) -> None:
        raise WriteContention("reads of the payment table still unprocessed after retries")

    monkeypatch.setattr(ReadAhead, "read_ahead", unavailable)
    with dynamodb_calls() as calls:
        response = on_order_cancelled.lambda_handler(sqs_event(*(order_cancelled(o) for o in created)), context)

    assert response == {"batchItemFailures": []}
    assert calls.count("GetItem") == 2
    assert [payment(tables, order_id)["status"] for order_id in ("o-1", "o-2")] == ["REFUNDED"] * 2

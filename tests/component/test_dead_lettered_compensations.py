"""A compensation whose last delivery timed out or crashed is reported from its dead-letter queue, once.

The reporters (payment's for refunds, inventory's for releases) run on a schedule against a real (moto)
queue holding the message as SQS dead-letters it: the EventBridge event the consumer could not finish.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers import on_order_cancelled as inventory_on_order_cancelled
from inventory.handlers import on_payment_processed, on_release_dead_lettered
from payment.handlers import on_order_cancelled, on_order_created, on_refund_dead_lettered
from shop_contracts.envelope import Envelope
from tests.component.conftest import Tables
from tests.component.inventory.test_inventory import available, cancelled, paid, stock
from tests.support.builders import eventbridge, order_cancelled, order_created, sqs_event

Reporter = Callable[[dict[str, Any], LambdaContext], dict[str, int]]


@pytest.fixture
def dlq(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName="on-order-cancelled-dlq")["QueueUrl"]
    monkeypatch.setenv("COMPENSATION_DEAD_LETTER_QUEUE_URL", url)
    return url


def dead_letter(url: str, event: Envelope[Any] | str, **attributes: str) -> None:
    """The message as SQS moves it to the dead-letter queue: the event as its rule delivered it."""
    body = event if isinstance(event, str) else json.dumps(eventbridge(event))
    boto3.client("sqs").send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


def waiting(url: str) -> int:
    """How many messages are there, visible (each scan shows its messages again at its end)."""
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def scheduled(reporter: Reporter, context: LambdaContext) -> dict[str, int]:
    return reporter({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, context)


def test_a_refund_dead_lettered_without_a_report_is_reported_once_and_then_redriven(
    tables: Tables, context: LambdaContext, dlq: str
) -> None:
    created = order_created(sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)
    cancel = order_cancelled(created)
    dead_letter(dlq, cancel)  # its every delivery timed out: nothing reported it

    first = scheduled(on_refund_dead_lettered.lambda_handler, context)
    again = scheduled(on_refund_dead_lettered.lambda_handler, context)

    assert first == {"examined": 1, "reported": 1, "skipped": 0, "failed": 0}
    assert again == {"examined": 1, "reported": 0, "skipped": 0, "failed": 0}
    assert tables.payment.published() == ["PaymentProcessed", "CompensationFailed"]
    reported = tables.payment.outbox()[1][1]
    assert (reported["data"]["step"], reported["data"]["reasonCode"]) == ("refund_payment", "dead_lettered")
    assert reported["metadata"]["causationId"] == cancel.metadata.event_id
    assert tables.payment.item("PAYMENT#o-1")["status"] == "REFUND_FAILED"  # type: ignore[index]
    assert waiting(dlq) == 1  # left for the redrive
    # The redrive after a fix: the same event, delivered again, refunds (the report did not mark it applied).
    on_order_cancelled.lambda_handler(sqs_event(cancel), context)
    assert tables.payment.published()[-1] == "PaymentRefunded"


def test_a_refund_its_last_delivery_reported_is_not_reported_again(
    tables: Tables, context: LambdaContext, dlq: str
) -> None:
    created = order_created(token="tok_refund_fail", sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)
    cancel = order_cancelled(created)
    on_order_cancelled.lambda_handler(sqs_event(cancel, receive_count=3), context)  # reports refund_rejected
    dead_letter(dlq, cancel)

    scan = scheduled(on_refund_dead_lettered.lambda_handler, context)

    assert scan["reported"] == 0
    assert tables.payment.published() == ["PaymentProcessed", "CompensationFailed"]


def test_a_refund_done_after_all_and_messages_that_are_no_compensation_are_not_reported(
    tables: Tables, context: LambdaContext, dlq: str
) -> None:
    created = order_created(sealer=tables.tokens)
    on_order_created.lambda_handler(sqs_event(created), context)
    cancel = order_cancelled(created)
    on_order_cancelled.lambda_handler(sqs_event(cancel), context)  # refunded; its answer to SQS was lost
    dead_letter(dlq, cancel)
    dead_letter(dlq, "not json")
    dead_letter(dlq, cancel, FailureReason="malformed: OrderCancelled detail is invalid")

    scan = scheduled(on_refund_dead_lettered.lambda_handler, context)

    assert scan == {"examined": 3, "reported": 0, "skipped": 2, "failed": 0}
    assert tables.payment.published() == ["PaymentProcessed", "PaymentRefunded"]
    assert waiting(dlq) == 3


def test_a_release_dead_lettered_without_a_report_is_reported_once(
    tables: Tables, context: LambdaContext, dlq: str
) -> None:
    stock(tables, A=5)
    on_payment_processed.lambda_handler(sqs_event(paid("o-1", ("A", 2))), context)
    cancel = cancelled("o-1")
    dead_letter(dlq, cancel)

    first = scheduled(on_release_dead_lettered.lambda_handler, context)
    again = scheduled(on_release_dead_lettered.lambda_handler, context)

    assert (first["reported"], again["reported"]) == (1, 0)
    assert tables.inventory.published()[-1] == "CompensationFailed"
    reported = tables.inventory.outbox()[-1][1]["data"]
    assert (reported["step"], reported["reasonCode"]) == ("release_inventory", "dead_lettered")
    assert available(tables, "A") == 3  # still held: the redrive releases it
    inventory_on_order_cancelled.lambda_handler(sqs_event(cancel), context)
    assert available(tables, "A") == 5

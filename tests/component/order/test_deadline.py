"""Deadlines: each order gets one schedule, and an order still pending then is cancelled as a timeout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from order.dal.deadline_scheduler import DeadlineScheduler
from order.handlers import on_deadline, on_order_created, on_payment_failed, on_sweep
from shared import environment
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.order import OrderCreated
from shop_contracts.payment import PaymentFailed
from tests.component.conftest import Tables, dynamodb_calls
from tests.component.order.test_api import VALID, call
from tests.support.builders import envelope, sqs_event


@pytest.fixture
def scheduling(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DEADLINE_QUEUE_ARN", "arn:aws:sqs:us-east-1:123456789012:deadline")
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/scheduler")
    monkeypatch.setenv("DEADLINE_DEAD_LETTER_QUEUE_ARN", "arn:aws:sqs:us-east-1:123456789012:deadline-dlq")
    monkeypatch.setenv("DEADLINE_QUEUE_URL", boto3.client("sqs").create_queue(QueueName="deadline")["QueueUrl"])
    environment.reset()
    yield boto3.client("scheduler")
    environment.reset()


def place(tables: Tables, context: LambdaContext) -> Envelope[Any]:
    call(context, "POST", "/orders", VALID)
    [(_, detail)] = tables.order.outbox()
    return Envelope[OrderCreated].model_validate(detail)


def test_each_order_gets_one_deadline_schedule(tables: Tables, context: LambdaContext, scheduling: Any) -> None:
    created = place(tables, context)

    on_order_created.lambda_handler(sqs_event(created, created), context)

    schedule = scheduling.get_schedule(Name=f"deadline-{created.data.order_id}")
    fires = created.data.deadline.replace(microsecond=0) + timedelta(seconds=1)
    assert schedule["ScheduleExpression"] == f"at({fires:%Y-%m-%dT%H:%M:%S})"
    assert json.loads(schedule["Target"]["Input"]) == {"orderId": created.data.order_id}
    assert schedule["Target"]["Arn"].endswith(":deadline")
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(":deadline-dlq")


def overdue(tables: Tables, order_id: str) -> None:
    tables.order._table.update_item(
        Key={"pk": f"ORDER#{order_id}"},
        UpdateExpression="SET deadline = :d",
        ExpressionAttributeValues={":d": (utc_now() - timedelta(seconds=1)).isoformat()},
    )


def test_a_pending_order_past_its_deadline_is_cancelled_as_a_timeout(tables: Tables, context: LambdaContext) -> None:
    created = place(tables, context)
    order_id = created.data.order_id
    overdue(tables, order_id)

    result = on_deadline.lambda_handler(sqs_event({"orderId": order_id}), context)

    assert result == {"batchItemFailures": []}
    order = tables.order.item(f"ORDER#{order_id}")
    assert order is not None and (order["status"], order["cancellationReason"]) == ("CANCELLED", "timeout")
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]
    cancelled = tables.order.outbox()[1][1]
    assert cancelled["data"]["reason"] == "timeout"
    assert cancelled["metadata"]["causationId"] == created.metadata.event_id


def test_a_deadline_before_its_time_is_retried_later_not_dropped(tables: Tables, context: LambdaContext) -> None:
    order_id = place(tables, context).data.order_id

    result = on_deadline.lambda_handler(sqs_event({"orderId": order_id}), context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert tables.order.published() == ["OrderCreated"]


def test_a_deadline_after_the_order_ended_changes_nothing(tables: Tables, context: LambdaContext) -> None:
    created = place(tables, context)
    order_id = created.data.order_id
    failed = envelope(PaymentFailed(order_id=order_id, reason="card_declined"), cause=created.metadata)
    on_payment_failed.lambda_handler(sqs_event(failed), context)
    overdue(tables, order_id)

    on_deadline.lambda_handler(sqs_event({"orderId": order_id}), context)
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]


def test_an_unreadable_deadline_fails_only_its_record(tables: Tables, context: LambdaContext) -> None:
    order_id = place(tables, context).data.order_id
    overdue(tables, order_id)

    result = on_deadline.lambda_handler(sqs_event({"order": "x"}, {"orderId": order_id}), context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert tables.order.published() == ["OrderCreated", "OrderCancelled"]


def test_the_sweeper_expires_an_order_whose_schedule_never_fired(tables: Tables, context: LambdaContext) -> None:
    created = place(tables, context)
    order_id = created.data.order_id
    tables.order._table.update_item(
        Key={"pk": f"ORDER#{order_id}"},
        UpdateExpression="SET deadlineAt = :d",
        ExpressionAttributeValues={":d": int((utc_now() - timedelta(minutes=5)).timestamp())},
    )
    overdue(tables, order_id)

    assert on_sweep.lambda_handler({"source": "aws.events"}, context) == {"expired": 1}
    assert on_sweep.lambda_handler({"source": "aws.events"}, context) == {"expired": 0}
    order = tables.order.item(f"ORDER#{order_id}")
    assert order is not None and (order["status"], order["cancellationReason"]) == ("CANCELLED", "timeout")
    assert "awaitingDeadline" not in order


def test_a_schedule_the_schedulers_quota_refuses_is_counted_and_the_delivery_retried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Refusing:
        def create_schedule(self, **_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "ServiceQuotaExceededException", "Message": "quota"}}, "CreateSchedule"
            )

    scheduler = DeadlineScheduler(Refusing(), "arn:queue", "arn:role", "arn:dlq", None, "url")

    with pytest.raises(ClientError):
        scheduler.schedule("o-1", datetime.now(UTC) + timedelta(minutes=5))
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "CloudWatchMetrics" in line]
    assert any(line.get("DeadlineSchedulesRefused") == [1.0] for line in emitted)


def test_a_batch_of_deadlines_reads_its_orders_in_one_call(tables: Tables, context: LambdaContext) -> None:
    for _ in range(3):
        call(context, "POST", "/orders", VALID)
    created = [Envelope[OrderCreated].model_validate(detail) for _, detail in tables.order.outbox()]
    assert len(created) == 3
    # Most deadlines find their order ended long before (as every one of these).
    for order in created:
        failed = envelope(PaymentFailed(order_id=order.data.order_id, reason="card_declined"), cause=order.metadata)
        on_payment_failed.lambda_handler(sqs_event(failed), context)
        overdue(tables, order.data.order_id)

    with dynamodb_calls() as calls:
        result = on_deadline.lambda_handler(sqs_event(*({"orderId": o.data.order_id} for o in created)), context)

    assert result == {"batchItemFailures": []}
    assert calls == ["BatchGetItem"]
    assert tables.order.published().count("OrderCancelled") == 3

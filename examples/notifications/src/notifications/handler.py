"""Tells a customer how their order ended: one notification per order and outcome.

Triggered by: OrderConfirmed and OrderCancelled from the shop's bus, through this team's
own subscription (the shop's consumer building block: own rule, queue, dead-letter queue and alarm).
Emits: nothing on the bus. Writes one NOTIFICATION#<orderId>#<detail-type> item to this team's own table;
that write is where a real team would send its e-mail.

Delivery is at least once and unordered, and an archive replay sends old events again: the write is
conditional on the item being new, so a duplicate or a replay notifies nobody twice. A replayed event
(EventBridge adds `replay-name`) is recorded as such.

Marking first and sending second, as here, is *at most once*: a crash between the mark and the send
would leave a customer untold. A real sender should send first, with an idempotency key the provider
keeps (the item's key, `NOTIFICATION#<orderId>#<detail-type>`: e-mail and SMS providers take one), then
mark: a crash after the send repeats it, and the provider drops the repeat. That is effectively once.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from shop_contracts.errors import LaterEventVersion
from shop_contracts.order import OrderCancelled, OrderConfirmed
from shop_contracts.registry import parse_any

logger = Logger(service="notifications")

MESSAGES = {
    "OrderConfirmed": "Your order {order_id} is confirmed.",
    "OrderCancelled": "Your order {order_id} was cancelled ({reason}); any payment is refunded.",
}


@cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["NOTIFICATIONS_TABLE_NAME"])


def notify(record: SQSRecord) -> None:
    """Record the notification for one event, once."""
    raw = json.loads(record.body)
    try:
        envelope = parse_any(raw)  # MalformedEvent says which field is wrong: retried, then dead-lettered
    except LaterEventVersion as exc:
        logger.info("later event version skipped; its v1 twin is on the bus", reason=str(exc))
        return
    event = envelope.data
    if not isinstance(event, OrderConfirmed | OrderCancelled):
        logger.warning("not an event this consumer reads; skipped", detail_type=raw.get("detail-type"))
        return
    detail_type = type(event).__name__
    reason = event.reason if isinstance(event, OrderCancelled) else None
    replay = raw.get("replay-name")
    try:
        _table().put_item(
            Item={
                "pk": f"NOTIFICATION#{event.order_id}#{detail_type}",
                "orderId": event.order_id,
                "message": MESSAGES[detail_type].format(order_id=event.order_id, reason=reason),
                "eventId": envelope.metadata.event_id,
                # When the customer was told: a second write of the same notification would change it.
                "notifiedAt": datetime.now(UTC).isoformat(),
                **({"replayName": replay} if replay else {}),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("already notified; duplicate or replay skipped", order_id=event.order_id, replay=replay)
        return
    logger.info("customer notified", order_id=event.order_id, detail_type=detail_type, replay=replay)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in, partial batch failures out: a failing record is retried alone."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=event, record_handler=notify, processor=processor, context=context))

"""Cancel an order still pending at its deadline; emits OrderCancelled (timeout) through the outbox.

Triggered by the deadline queue, into which each order's one-time EventBridge Scheduler schedule sends
`{"orderId": "..."}` at the deadline. Try it: `sam remote invoke OrderDeadlineFunction --event-file
events/sqs/DeadlineReached.json`.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from order.handlers.wiring import wiring
from order.logic.finish_order import expire_order
from shared.consumer import QueueRecord, each_record, items_read_ahead
from shared.observability import logger, tracer
from shop_contracts.envelope import utc_now


class DeadlineReached(BaseModel):
    """What the schedule sends at the deadline."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)
    order_id: str = Field(alias="orderId", min_length=1)


def handle(record: QueueRecord) -> None:
    """Apply one deadline; an unreadable one fails its record (retried, then kept in the DLQ)."""
    deadline = DeadlineReached.model_validate_json(record.body)
    logger.append_keys(correlation_id=deadline.order_id)
    expire_order(deadline.order_id, uow=wiring.unit_of_work, now=utc_now())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch in (its orders read in one call), partial batch response out."""
    uow = wiring.unit_of_work
    with items_read_ahead(uow.table, [uow.order_record(order_id) for order_id in _order_ids(event)]):
        return each_record(event, handle)


def _order_ids(event: dict[str, Any]) -> list[str]:
    """The orders the batch's deadlines name; a record that does not name one is left to `handle`."""
    found = []
    for raw in event.get("Records", []):
        try:
            found.append(DeadlineReached.model_validate_json(QueueRecord.of(raw).body).order_id)
        except ValueError:
            continue
    return found

"""EventBridge Scheduler: one one-time schedule per order that fires at its deadline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError

from shared.metrics import measures
from shared.observability import logger

QUOTA_REFUSALS = {"ServiceQuotaExceededException", "ThrottlingException"}


def schedule_name(order_id: str) -> str:
    """The schedule of an order's deadline (names are unique per group, at most 64 characters)."""
    return f"deadline-{order_id}"[:64]


def schedule_time(deadline: datetime) -> datetime:
    """The whole second at or after the deadline: `at()` takes seconds, and firing early would be a no-op."""
    whole = deadline.astimezone(UTC).replace(microsecond=0)
    return whole if whole == deadline else whole + timedelta(seconds=1)


class Scheduler(Protocol):
    """Arranges for an order's deadline to arrive at the deadline function."""

    def schedule(self, order_id: str, at: datetime) -> bool:
        """Schedule the order's deadline once; returns False when it was already scheduled."""
        ...

    def fire_now(self, order_id: str) -> None:
        """Send the order's deadline to the deadline function at once (it is already due)."""
        ...


@dataclass(frozen=True)
class DeadlineScheduler:
    """Creates the deadline schedule of an order, once; at the deadline it sends `{"orderId"}` to the
    deadline queue, which feeds the deadline function."""

    client: Any  # boto3 "scheduler" client
    target_arn: str
    role_arn: str
    dead_letter_arn: str
    queue: Any  # boto3 "sqs" client
    queue_url: str

    def fire_now(self, order_id: str) -> None:
        """A deadline already due goes straight to the deadline queue (a schedule in the past never fires)."""
        self.queue.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"orderId": order_id}))

    def schedule(self, order_id: str, at: datetime) -> bool:
        """Schedule the order's deadline; returns False when it was already scheduled."""
        try:
            self.client.create_schedule(
                Name=schedule_name(order_id),
                ScheduleExpression=f"at({schedule_time(at):%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self.target_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps({"orderId": order_id}),
                    "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
                    # A deadline the schedule could not deliver is kept where operators look.
                    "DeadLetterConfig": {"Arn": self.dead_letter_arn},
                },
            )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in QUOTA_REFUSALS:
                # The Scheduler's quota (schedules at once, or requests a second): operators raise it.
                measures.count("DeadlineSchedulesRefused")
                measures.flush()
                logger.error("deadline schedule refused by the Scheduler's quota", code=code)
            if code != "ConflictException":
                raise
            logger.info("deadline already scheduled")
            return False
        return True

"""EventBridge Scheduler: one one-time schedule per order that fires at its deadline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError

from shared.observability import logger


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


@dataclass(frozen=True)
class DeadlineScheduler:
    """Creates the deadline schedule of an order, once; at the deadline it sends `{"orderId"}` to the
    deadline queue, which feeds the deadline function."""

    client: Any  # boto3 "scheduler" client
    target_arn: str
    role_arn: str

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
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise
            logger.info("deadline already scheduled")
            return False
        return True

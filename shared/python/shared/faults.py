"""Test-only fault injection: crashes in the outbox relay and outages of consumers.

Active only when FAULT_INJECTION=true (template parameter `FaultInjection`, "false" unless a test
deploys with it). The plan is the item `pk = "FAULTS"` in the function's own table (FAULT_TABLE_NAME),
written by the fault-injection suite (`scripts/fault_suite.py`); every fault injected here is counted
on that item, so the suite can report what it injected.
"""

from __future__ import annotations

import random
import time
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared import aws
from shared.errors import ShopError
from shared.observability import logger
from shared.settings import Settings, load_settings

PLAN_KEY = {"pk": "FAULTS"}


class InjectedFault(ShopError):
    """A failure the fault-injection suite asked for."""


class FaultPlan(BaseModel):
    """What to break: a crash rate for the relay, and outage windows per consumer."""

    model_config = ConfigDict(populate_by_name=True)
    relay_crash_rate: float = Field(default=0.0, alias="relayCrashRate", ge=0, le=1)
    # Consumer logical name (e.g. "PaymentOnOrderCreated") -> seconds it is down, counted from the first
    # batch it receives once the plan is written (so the outage meets real traffic).
    outages: dict[str, float] = Field(default_factory=dict)


class FaultSettings(Settings):
    """Whether faults may be injected in this function, and where its plan lives."""

    enabled: bool = Field(default=False, alias="FAULT_INJECTION")
    table_name: str | None = Field(default=None, alias="FAULT_TABLE_NAME")
    function_name: str = Field(default="", alias="AWS_LAMBDA_FUNCTION_NAME")


@cache
def fault_settings() -> FaultSettings:
    """The fault settings of this function, validated once."""
    return load_settings(FaultSettings)


def _plan_item() -> dict[str, Any] | None:
    settings = fault_settings()
    if not settings.enabled or not settings.table_name:
        return None
    return aws.dynamodb().Table(settings.table_name).get_item(Key=PLAN_KEY, ConsistentRead=True).get("Item")


def _plan() -> FaultPlan | None:
    item = _plan_item()
    return FaultPlan.model_validate(item.get("plan", {})) if item else None


def _outage_start(consumer: str, now: int) -> int:
    """When this consumer's outage began: the first caller sets it, everyone after reads it."""
    table = aws.dynamodb().Table(str(fault_settings().table_name))
    result = table.update_item(
        Key=PLAN_KEY,
        UpdateExpression="SET #started = if_not_exists(#started, :now)",
        ExpressionAttributeNames={"#started": f"outage_started_{consumer}"},
        ExpressionAttributeValues={":now": now},
        ReturnValues="ALL_NEW",
    )
    return int(str(result["Attributes"][f"outage_started_{consumer}"]))


def _count(kind: str) -> None:
    settings = fault_settings()
    aws.dynamodb().Table(str(settings.table_name)).update_item(
        Key=PLAN_KEY,
        UpdateExpression="ADD #kind :one",
        ExpressionAttributeNames={"#kind": kind},
        ExpressionAttributeValues={":one": 1},
    )


def crash_relay(stage: str) -> None:
    """Maybe crash the relay at `stage` ("before_publish": after the commit, before PutEvents;
    "after_publish": after PutEvents, before the stream position moves on).

    Raises
    ------
    InjectedFault
        When the plan's dice say so; the stream then redelivers the batch.
    """
    plan = _plan()
    if plan is None or not plan.relay_crash_rate or random.random() >= plan.relay_crash_rate / 2:
        return
    _count(f"crash_{stage}")
    logger.warning("injected relay crash", stage=stage)
    raise InjectedFault(f"injected relay crash {stage}")


def fail_if_in_outage() -> None:
    """Fail this consumer's whole batch while its outage window is open.

    Raises
    ------
    InjectedFault
        Inside the window; SQS redelivers the batch after its visibility timeout.
    """
    plan = _plan()
    if plan is None:
        return
    for consumer, seconds in plan.outages.items():
        if f"-{consumer}Function" not in fault_settings().function_name:
            continue
        now = int(time.time())
        if now - _outage_start(consumer, now) <= seconds:
            _count("consumer_outage_failures")
            logger.warning("injected consumer outage", consumer=consumer)
            raise InjectedFault(f"injected outage of {consumer}")

"""Fault injection for the fault suite: crashes of the outbox relay, outages of consumers, writes that
commit but whose answer is lost, and a payment gateway that keeps a ledger of its calls and loses some
of its answers.

Active only on a test stack deployed with `FaultInjection=true` (wired by `shared.seams`). The plan is
the item `pk = "FAULTS"` in the stack's test-only plan table, written by the fault suite
(`tests/support/faults/`); every fault injected here is counted on that item, so the suite can
report what it injected.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared import aws
from shared.errors import ShopError
from shared.observability import logger
from shared.publisher import Publisher
from shared.storage import Item, Key, Table, Write
from shared.storage.attribute_values import typed_item, untyped_item

PLAN_KEY = {"pk": "FAULTS"}
# The plan is read at most this often per process, so an outage costs one read a second, not one a call.
PLAN_CACHE_SECONDS = 1.0


class InjectedFault(ShopError):
    """A failure the fault-injection suite asked for."""


class Plan(BaseModel):
    """What to break: a crash rate for the relays, and outage windows per consumer."""

    model_config = ConfigDict(populate_by_name=True)
    relay_crash_rate: float = Field(default=0.0, alias="relayCrashRate", ge=0, le=1)
    # Share of PutEvents calls in which EventBridge rejects some entries (FailedEntryCount > 0).
    put_events_failure_rate: float = Field(default=0.0, alias="putEventsFailureRate", ge=0, le=1)
    # Consumer or relay logical name (e.g. "PaymentOnOrderCreated", "PaymentOutboxRelay") -> seconds it is
    # down, counted from the first call it makes once the plan is written (so the outage meets traffic).
    outages: dict[str, float] = Field(default_factory=dict)
    # Share of a consumer's writes that commit and then fail as if the answer were lost on the way back.
    lost_write_answer_rate: float = Field(default=0.0, alias="lostWriteAnswerRate", ge=0, le=1)
    # Share of payment gateway calls that take effect and then fail as a timeout would.
    gateway_lost_answer_rate: float = Field(default=0.0, alias="gatewayLostAnswerRate", ge=0, le=1)


@dataclass
class FaultPlan:
    """The plan in the plan table, as this function sees it."""

    table_name: str
    function_name: str
    _cached: tuple[float, Plan | None] = field(default=(0.0, None))

    def current(self) -> Plan | None:
        """The plan, or None when the suite wrote none."""
        read_at, plan = self._cached
        if time.monotonic() - read_at > PLAN_CACHE_SECONDS:
            raw = aws.dynamodb().get_item(TableName=self.table_name, Key=typed_item(PLAN_KEY), ConsistentRead=True)
            item = untyped_item(raw["Item"]) if "Item" in raw else None
            plan = Plan.model_validate(item.get("plan", {})) if item else None
            self._cached = (time.monotonic(), plan)
        return plan

    def count(self, kind: str) -> None:
        """Count one injected fault on the plan item."""
        aws.dynamodb().update_item(
            TableName=self.table_name,
            Key=typed_item(PLAN_KEY),
            UpdateExpression="ADD #kind :one",
            ExpressionAttributeNames={"#kind": kind},
            ExpressionAttributeValues=typed_item({":one": 1}),
        )

    def record_call(self, kind: str, key: str, *, failed: bool) -> None:
        """Note one gateway call (and whether its caller got no answer) on the ledger item of its key."""
        aws.dynamodb().update_item(
            TableName=self.table_name,
            Key=typed_item({"pk": f"GATEWAY#{kind}#{key}"}),
            UpdateExpression="ADD calls :one, failed :failed",
            ExpressionAttributeValues=typed_item({":one": 1, ":failed": 1 if failed else 0}),
        )

    def chance(self, rate: float) -> bool:
        """True with probability `rate`."""
        return rate > 0 and random.random() < rate

    def outage_kind(self) -> str:
        """What an outage of this function is called in the counts."""
        return "relay_outage_failures" if "OutboxRelay" in self.function_name else "consumer_outage_failures"

    def outage_open(self) -> bool:
        """Whether this function is inside its outage window."""
        plan = self.current()
        if plan is None:
            return False
        for consumer, seconds in plan.outages.items():
            if f"-{consumer}Function" in self.function_name:
                now = int(time.time())
                return now - self._outage_start(consumer, now) <= seconds
        return False

    def _outage_start(self, consumer: str, now: int) -> int:
        """When this consumer's outage began: the first caller sets it, everyone after reads it."""
        result = aws.dynamodb().update_item(
            TableName=self.table_name,
            Key=typed_item(PLAN_KEY),
            UpdateExpression="SET #started = if_not_exists(#started, :now)",
            ExpressionAttributeNames={"#started": f"outage_started_{consumer}"},
            ExpressionAttributeValues=typed_item({":now": now}),
            ReturnValues="ALL_NEW",
        )
        return int(untyped_item(result["Attributes"])[f"outage_started_{consumer}"])


@dataclass(frozen=True)
class OutageTable:
    """A consumer's table that fails every call while the consumer's outage window is open."""

    inner: Table
    plan: FaultPlan

    @property
    def name(self) -> str:
        """The wrapped table's name."""
        return self.inner.name

    def _check(self) -> None:
        if self.plan.outage_open():
            self.plan.count(self.plan.outage_kind())
            logger.warning("injected outage")
            raise InjectedFault("injected outage")

    def get(self, key: Key) -> Item | None:
        """Read, unless in an outage."""
        self._check()
        return self.inner.get(key)

    def read_through(self) -> Table:
        """The table reads go to (storage.read_together), unless in an outage."""
        self._check()
        return self.inner

    def write(self, writes: Sequence[Write]) -> None:
        """Write, unless in an outage; a consumer's write may commit and then lose its answer."""
        self._check()
        self.inner.write(writes)
        plan = self.plan.current()
        # Not the APIs': a caller of the API would see a 500 for a request that took effect (the
        # Idempotency-Key covers that), which is not this fault.
        if plan and "ApiFunction" not in self.plan.function_name and self.plan.chance(plan.lost_write_answer_rate):
            self.plan.count("lost_write_answers")
            logger.warning("injected lost answer of a committed write")
            raise InjectedFault("injected: the write committed but its answer was lost")

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Query, unless in an outage."""
        self._check()
        return self.inner.query(index, partition, below=below, limit=limit)

    def remove(self, keys: Sequence[Key]) -> None:
        """Remove, unless in an outage."""
        self._check()
        self.inner.remove(keys)


@dataclass(frozen=True)
class CrashingPublisher:
    """A relay's publisher that crashes, at the plan's rate, before PutEvents (after the commit) or
    after it (before the stream position moves on); the stream then redelivers the batch."""

    inner: Publisher
    plan: FaultPlan

    def put_entries(self, entries: Sequence[dict[str, Any]]) -> int:
        """Publish, maybe crashing on either side; nothing gets through during the relay's outage."""
        if self.plan.outage_open():
            self.plan.count(self.plan.outage_kind())
            logger.warning("injected relay outage: EventBridge unreachable")
            raise InjectedFault("injected relay outage")
        self._maybe_crash("before_publish")
        published = self.inner.put_entries(entries)
        self._maybe_crash("after_publish")
        return published

    def _maybe_crash(self, stage: str) -> None:
        plan = self.plan.current()
        if plan is None or not plan.relay_crash_rate or random.random() >= plan.relay_crash_rate / 2:
            return
        self.plan.count(f"crash_{stage}")
        logger.warning("injected relay crash", stage=stage)
        raise InjectedFault(f"injected relay crash {stage}")


@dataclass(frozen=True)
class PartlyFailingEvents:
    """An EventBridge client that, at the plan's rate, rejects some entries of a PutEvents call as
    EventBridge does under throttling (`FailedEntryCount`, an `ErrorCode` per rejected entry), so the
    publisher's re-send path meets real traffic."""

    inner: Any  # boto3 "events" client
    plan: FaultPlan

    def put_events(self, Entries: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        plan = self.plan.current()
        if plan is None or random.random() >= plan.put_events_failure_rate:
            return dict(self.inner.put_events(Entries=Entries, **kwargs))
        rejected = {index for index in range(len(Entries)) if random.random() < 0.5} or {0}
        accepted = [entry for index, entry in enumerate(Entries) if index not in rejected]
        sent = iter(self.inner.put_events(Entries=accepted, **kwargs)["Entries"] if accepted else [])
        self.plan.count("put_events_partial_failures")
        logger.warning("injected PutEvents partial failure", rejected=len(rejected))
        results = [
            {"ErrorCode": "ThrottlingException", "ErrorMessage": "injected"} if index in rejected else next(sent)
            for index in range(len(Entries))
        ]
        return {"FailedEntryCount": len(rejected), "Entries": results}


@dataclass(frozen=True)
class LedgerGateway:
    """A payment gateway that notes every call on a ledger item per idempotency key (`GATEWAY#<kind>#<key>`:
    calls, and failed: the caller got no answer), and at the plan's rate takes a call's effect and then
    fails as a timeout would. The fault suite then checks that the payment service called again only
    for a key whose earlier call failed."""

    inner: Any  # the payment service's gateway
    plan: FaultPlan

    def charge(self, *, idempotency_key: str, **kwargs: Any) -> Any:
        """Charge through the real gateway, on the ledger."""
        return self._call(
            "charge", idempotency_key, lambda: self.inner.charge(idempotency_key=idempotency_key, **kwargs)
        )

    def refund(self, *, idempotency_key: str, **kwargs: Any) -> Any:
        """Refund through the real gateway, on the ledger."""
        return self._call(
            "refund", idempotency_key, lambda: self.inner.refund(idempotency_key=idempotency_key, **kwargs)
        )

    def _call(self, kind: str, key: str, call: Any) -> Any:
        try:
            result = call()
        except Exception:
            self.plan.record_call(kind, key, failed=True)
            raise
        plan = self.plan.current()
        lost = bool(plan and self.plan.chance(plan.gateway_lost_answer_rate))
        self.plan.record_call(kind, key, failed=lost)
        if lost:
            self.plan.count("gateway_lost_answers")
            logger.warning("injected lost gateway answer", kind=kind)
            raise InjectedFault(f"injected: the gateway's answer to a {kind} was lost")
        return result

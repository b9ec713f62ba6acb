"""The fault suite's checker: the design's invariants 1 to 5, from the services' own tables, the API and the
events a listener saw on the bus.

1. nothing lost (every order ends, every outbox row is published); 2. money: charged minus refunded is the
total of a confirmed order and nothing else, never twice, the gateway asked again only after a failure;
3. stock never negative, and what left it is what confirmed orders bought; 4. the projector's view matches
each order and holds exactly the events the bus carried; 5. bad input changes nothing and waits in a
dead-letter queue with its reason.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3

from shopctl.stack import ApiClient
from tests.support.bus import BusSubscriber

# A poison kind that is no poison: an event of a later eventVersion, skipped by v1 readers (docs/consumers.md).
LATER_VERSION = "later-version"


@dataclass
class PlacedOrder:
    """An order the suite placed, and what it asked for."""

    order_id: str
    lines: list[tuple[str, int]]
    total: Decimal


@dataclass
class Report:
    """What a run did and what the checker found."""

    orders: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def render(self) -> str:
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.injected.items())) or "none"
        outcomes = ", ".join(f"{kind} {n}" for kind, n in sorted(self.outcomes.items()))
        lines = [
            f"fault-injection run: {self.orders} orders ({outcomes})",
            f"faults injected ({sum(self.injected.values())}): {faults}",
            f"violations: {len(self.violations)}",
        ]
        lines += [f"  - {violation}" for violation in self.violations[:20]]
        if len(self.violations) > 20:
            lines.append(f"  ... and {len(self.violations) - 20} more")
        return "\n".join(lines)


class Checker:
    """Reads what a run left: the services' tables, the API, the dead-letter queues, the gateway's ledger."""

    def __init__(self, *, api: ApiClient, tables: dict[str, str], queues: dict[str, str], plan_table: Any) -> None:
        self.api = api
        self.tables = tables
        self.queues = queues
        self.plan_table = plan_table
        self.dynamodb = boto3.resource("dynamodb")
        self.sqs = boto3.client("sqs")

    def check(
        self,
        placed: list[PlacedOrder],
        finals: dict[str, Any],
        bus: BusSubscriber,
        initial_stock: dict[str, int],
        poison: list[str],
    ) -> list[str]:
        """Invariants 1 to 5 of the design, from the services' own state and the events on the bus."""
        payments = self._items("Payment", "PAYMENT#")
        reservations = self._items("Inventory", "RESERVATION#")
        sagas = self._items("Saga", "SAGA#")
        violations: list[str] = []
        sold: Counter[str] = Counter()
        for order in placed:
            status = finals.get(order.order_id, {}).get("status")
            events = bus.events(order.order_id)
            violations += check_order(order, status, events, payments.get(order.order_id))
            violations += check_view(order.order_id, status, events, sagas.get(order.order_id))
            if status == "CONFIRMED":
                for product_id, quantity in order.lines:
                    sold[product_id] += quantity
        violations += self._check_stock(initial_stock, sold)
        violations += self._check_poison(poison, [payments, reservations, sagas])
        violations += self._check_gateway(placed, payments)
        return violations

    def _check_gateway(self, placed: list[PlacedOrder], payments: dict[str, dict[str, Any]]) -> list[str]:
        """2b. Never paid twice: the gateway was called again for a key only after a call that failed."""
        keys = {("charge", order.order_id) for order in placed}
        keys |= {
            ("refund", str(payment["paymentId"]))
            for order_id, payment in payments.items()
            if payment.get("paymentId") and any(order.order_id == order_id for order in placed)
        }
        ledger = self._items_of(self.plan_table, "GATEWAY#")
        violations = []
        for kind, key in sorted(keys):
            entry = ledger.get(f"{kind}#{key}")
            if entry and int(entry["calls"]) > 1 + int(entry.get("failed", 0)):
                violations.append(
                    f"the gateway was asked to {kind} {key} {entry['calls']} times, {entry.get('failed', 0)} failed"
                )
        return violations

    def _check_stock(self, initial_stock: dict[str, int], sold: Counter[str]) -> list[str]:
        """3. Stock never negative; what left stock is exactly what confirmed orders bought."""
        violations = []
        for product_id, units in initial_stock.items():
            available = self.api.call("GET", f"/products/{product_id}").body["available"]
            if available < 0:
                violations.append(f"negative stock of {product_id}: {available}")
            if units - available != sold[product_id]:
                violations.append(f"stock of {product_id}: {units} - {available} != {sold[product_id]} sold")
        return violations

    def await_outbox_drained(self, timeout: float = 180) -> list[str]:
        """1. Nothing lost: every outbox row is published and removed in the end (the sweeper included)."""
        deadline = time.monotonic() + timeout
        while True:
            left = {table: len(self._items(table, "OUTBOX#")) for table in ("Order", "Payment", "Inventory")}
            if not any(left.values()) or time.monotonic() > deadline:
                break
            time.sleep(5)
        return [f"{n} {table} outbox row(s) never published" for table, n in left.items() if n]

    def _check_poison(self, poison: list[str], states: list[dict[str, Any]]) -> list[str]:
        """5. Bad input changes nothing and waits in a dead-letter queue with its reason."""
        violations = [f"poison event {pid} changed state" for pid in poison if any(pid in state for state in states)]
        parked = self._parked_poison()
        for pid in poison:
            if LATER_VERSION in pid and pid in parked:
                violations.append(f"event {pid} of a later eventVersion was parked, not skipped")
            elif LATER_VERSION not in pid and pid not in parked:
                violations.append(f"poison event {pid} is not parked with a reason")
        return violations

    def _items(self, table: str, prefix: str) -> dict[str, dict[str, Any]]:
        return self._items_of(self.dynamodb.Table(self.tables[table]), prefix)

    @staticmethod
    def _items_of(table: Any, prefix: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(ConsistentRead=True, **kwargs)
            for item in page["Items"]:
                key = str(item["pk"])
                if key.startswith(prefix):
                    found[key.removeprefix(prefix)] = item
            if "LastEvaluatedKey" not in page:
                return found
            kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    def _parked_poison(self) -> set[str]:
        parked: set[str] = set()
        for name, url in self.queues.items():
            if not name.endswith("DeadLetterQueue") or name == "RelayDeadLetterQueue":
                continue
            for _ in range(5):
                batch = self.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=5, MessageAttributeNames=["All"]
                ).get("Messages", [])
                if not batch:
                    break
                for message in batch:
                    if "FailureReason" in message.get("MessageAttributes", {}):
                        detail = json.loads(message["Body"]).get("detail") or {}
                        metadata = detail.get("metadata") or {}
                        parked.add(metadata.get("eventId") or str(detail.get("oops")))
        return parked


def check_order(
    order: PlacedOrder, status: str | None, events: list[dict[str, Any]], payment: dict[str, Any] | None
) -> list[str]:
    """1. Nothing lost; 2. money: charged minus refunded is the total if confirmed, else 0, once each;
    3. (per order) one reservation and one release at most."""
    oid = order.order_id
    kinds = Counter(e["detail-type"] for e in events)
    violations = [] if status in ("CONFIRMED", "CANCELLED") else [f"lost order {oid}: still {status}"]
    for kind, what in (
        ("PaymentProcessed", "double charge"),
        ("PaymentRefunded", "double refund"),
        ("InventoryReserved", "double reservation"),
        ("InventoryReleased", "double release"),
    ):
        if kinds[kind] > 1:
            violations.append(f"{what} of {oid}: {kinds[kind]} {kind} events")
    charged = sum(Decimal(e["detail"]["data"]["amount"]) for e in events if e["detail-type"] == "PaymentProcessed")
    refunded = sum(Decimal(e["detail"]["data"]["amount"]) for e in events if e["detail-type"] == "PaymentRefunded")
    expected = order.total if status == "CONFIRMED" else Decimal(0)
    if charged - refunded != expected and not kinds["CompensationFailed"]:
        violations.append(f"money of {oid}: charged {charged} - refunded {refunded} != {expected} ({status})")
    if status == "CONFIRMED" and (payment is None or payment["status"] not in ("CHARGED", "SETTLED")):
        violations.append(f"payment record of confirmed {oid} is {payment and payment['status']}")
    return violations


def check_view(oid: str, status: str | None, events: list[dict[str, Any]], saga: dict[str, Any] | None) -> list[str]:
    """4. The projector's view matches the order's state and holds exactly the events the bus carried."""
    violations = []
    view = (saga or {}).get("view") or {}
    wanted = {"CONFIRMED": {"COMPLETED"}, "CANCELLED": {"CANCELLED", "COMPENSATION_FAILED"}}.get(status or "", set())
    if view.get("status") not in wanted:
        violations.append(f"projector shows {oid} as {view.get('status')} but the order is {status}")
    seen = {e["detail"]["metadata"]["eventId"] for e in events}
    projected = {entry["eventId"] for entry in view.get("timeline", [])}
    if projected != seen:
        violations.append(f"projector of {oid} holds {len(projected)} events, the bus carried {len(seen)}")
    return violations

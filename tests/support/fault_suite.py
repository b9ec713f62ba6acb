"""Fault injection against the deployed stack, and a checker of the design's invariants 1 to 5.

    python -m tests.support.fault_suite --stack shop-saga-e2e --orders 20     (part of make test)
    python -m tests.support.fault_suite --stack shop-saga-e2e --orders 120    (make chaos)

Needs a stack deployed with FaultInjection=true. While orders flow it injects, through real channels:
every event re-delivered once or twice more on the bus (half at once, concurrently; half late, so
out of order); relay crashes between commit and publish (and after publish); consumer outage windows
that then end; old events fed straight into the projector's and consumers' queues in shuffled order;
and poison events. Then the checker reads the services' own tables and the events seen on the bus and
reports violations of the invariants. Exit status 0 when there are none (or, with --expect-violations,
when there are some: the negative control).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3

from shopctl.stack import ApiClient, api_base_url, customer_token, stack_outputs, stack_queues, wait_until_priced
from tests.support.bus import BusSubscriber

SETTLED = {"COMPLETED", "CANCELLED", "COMPENSATION_FAILED"}
# A poison kind that is no poison: an event of a later eventVersion, skipped by v1 readers (docs/consumers.md).
LATER_VERSION = "later-version"

# The most orders placed at once (see `_place_in_waves`).
WAVE = 50
FAULT_COUNTERS = (
    "crash_before_publish",
    "crash_after_publish",
    "consumer_outage_failures",
    "relay_outage_failures",
    "put_events_partial_failures",
    "lost_write_answers",
    "gateway_lost_answers",
)
# Seconds each consumer is down from its first batch under the plan: shorter than its redelivery budget
# (MaxReceiveCount x ConsumerVisibilityTimeout = 3 x 10 s locally), so it recovers rather than dead-letters.
# The payment relay's outage outlasts its stream's retry window (60 s locally): the stream gives its
# batches up, the rows stay in the outbox, and the sweeper publishes them once the bus is back.
OUTAGES = {"PaymentOnOrderCreated": 8, "InventoryOnPaymentProcessed": 8, "SagaOnSagaEvent": 6}
# Planned once the first half of the orders has settled, so that half meets the other faults alone
# (a relay down longer than the 60 s deadline times out every order it catches).
RELAY_OUTAGES = {"PaymentOutboxRelay": 75}


@dataclass
class Injected:
    """What the suite injected, by kind."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.counts[kind] += n


class Duplicator:
    """Delivers every new saga event on the bus once or twice more: half at once, half late (1 to 6 s).

    Late copies wait in a queue ordered by when they are due, not in a sleeping worker: a large run
    makes thousands, and workers that slept through each delay fell minutes behind (and a run then
    waited for them all at the end). Copies still waiting when the run ends are dropped and counted.
    """

    def __init__(
        self, bus_name: str, injected: Injected, rng: random.Random, *, late: tuple[float, float] = (1, 6)
    ) -> None:
        self._events = boto3.client("events")
        self.bus_name, self.injected, self.rng, self.late = bus_name, injected, rng, late
        self._pool = ThreadPoolExecutor(max_workers=4)
        self._due: list[tuple[float, int, dict[str, Any]]] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="late-duplicates", daemon=True)
        self._dispatcher.start()

    def __call__(self, event: dict[str, Any]) -> None:
        for _ in range(self.rng.choice((1, 2))):
            if self.rng.random() < 0.5:
                self.injected.add("duplicate_concurrent")
                self._pool.submit(self._redeliver, event)
            else:
                self.injected.add("duplicate_late")
                with self._wake:
                    due = time.monotonic() + self.rng.uniform(*self.late)
                    heapq.heappush(self._due, (due, next(self._sequence), event))
                    self._wake.notify()

    def _dispatch(self) -> None:
        with self._wake:
            while not self._closed:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    _, _, event = heapq.heappop(self._due)
                    self._pool.submit(self._redeliver, event)
                self._wake.wait(timeout=(self._due[0][0] - now) if self._due else None)

    def _redeliver(self, event: dict[str, Any]) -> None:
        self._events.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                }
            ]
        )

    def close(self) -> None:
        with self._wake:
            self._closed = True
            dropped = len(self._due)
            self._wake.notify()
        self._dispatcher.join(timeout=5)
        self._pool.shutdown(wait=True)  # what is already due is sent
        if dropped:
            self.injected.add("duplicate_late", -dropped)  # never sent: not counted as injected


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


class FaultSuite:
    """One run: products, a fault plan, orders under faults, then the checker."""

    def __init__(
        self, stack: str, *, orders: int, seed: int, feed_out_of_order: bool = True, relay_outage: bool = True
    ) -> None:
        self.outputs = stack_outputs(stack)
        self.stack = stack
        anonymous = ApiClient(api_base_url(self.outputs))
        self.operator = anonymous.as_operator()
        self.api = anonymous.as_customer(
            customer_token(self.outputs, f"fault-suite-{uuid.uuid4().hex[:8]}@e2e.example", "Fault-Suite-Passw0rd")
        )
        self.rng = random.Random(seed)
        self.n_orders = orders
        self.feed_out_of_order = feed_out_of_order
        self.relay_outage = relay_outage
        self.injected = Injected()
        self.dynamodb = boto3.resource("dynamodb")
        self.sqs = boto3.client("sqs")
        self.tables = {name: self.outputs[f"{name}TableName"] for name in ("Order", "Payment", "Inventory", "Saga")}
        self.queues = stack_queues(stack)

    # -- the run ---------------------------------------------------------------------------------

    def run(self, *, settle_timeout: float = 240) -> Report:
        started = time.time()
        products = self._products()
        initial = dict(products)
        self._plan_faults(started)
        duplicator = Duplicator(self.outputs["EventBusName"], self.injected, self.rng)
        bus = BusSubscriber(self.outputs["EventBusName"], prefix="fault-suite", on_new_event=duplicator)
        try:
            first_half = self._place_in_waves(products, self.n_orders // 2, bus, settle_timeout)
            self._wait_until_settled(first_half, bus, settle_timeout)
            if self.relay_outage:
                self._plan_faults(time.time(), relays_too=True)
            placed = first_half + self._place_in_waves(products, self.n_orders - len(first_half), bus, settle_timeout)
            poison = self._poison()
            finals = self._wait_until_settled(placed, bus, settle_timeout)
            # A saga can look settled while an older event of it still waits in an outbox (a stream batch
            # given up during the relay outage, for the sweeper): the checker reads the bus only once
            # every outbox has drained and every consumer has caught up.
            counted = self._plan_counters()
            self._clear_faults()  # the faults stop here: what follows is whether everything recovered
            leftover = self._await_outbox_drained()
            if self.feed_out_of_order:
                self._feed_out_of_order(placed, bus)
            self._drain()
            report = Report(orders=len(placed))
            report.outcomes = Counter(
                "/".join(filter(None, (order.get("status", "?"), order.get("cancellationReason"))))
                for order in finals.values()
            )
            report.injected = +(Counter(self.injected.counts) + counted)
            report.violations = leftover + self.check(placed, finals, bus, initial, poison)
            return report
        finally:
            bus.close()
            duplicator.close()
            self._clear_faults()

    def _products(self) -> dict[str, int]:
        # Less stock than demand, so some orders run out and must be fully undone.
        stock = {f"FS-{uuid.uuid4().hex[:8]}": max(2, self.n_orders // 4) for _ in range(3)}
        for product_id, units in stock.items():
            result = self.operator.call(
                "PUT", f"/products/{product_id}", {"name": product_id, "price": "5.00", "available": units}
            )
            if result.status != 200:
                raise RuntimeError(f"PUT /products/{product_id}: {result.status} {result.body}")
        # Orders are priced from the order service's copy of the catalogue: wait for it before any fault.
        wait_until_priced(self.stack, dict.fromkeys(stock, "5.00"))
        return stock

    def _plan_table(self) -> Any:
        name = self.outputs.get("TestSeamsTableName")
        if not name:
            raise RuntimeError(f"stack {self.stack} has no fault plan table: deploy it with FaultInjection=true")
        return self.dynamodb.Table(name)

    def _plan_faults(self, now: float, *, relays_too: bool = False) -> None:
        outages = {**OUTAGES, **(RELAY_OUTAGES if relays_too else {})}
        # The outage start times the functions noted on the item stay: a window is not reopened.
        self._plan_table().update_item(
            Key={"pk": "FAULTS"},
            UpdateExpression="SET #plan = :plan",
            ExpressionAttributeNames={"#plan": "plan"},
            ExpressionAttributeValues={
                ":plan": {
                    "relayCrashRate": Decimal("0.3"),
                    # About 20 PutEvents calls run under the plan: at 0.2 a run met no partial failure about
                    # once in 80 (the e2e test then fails, as it requires each kind); at 0.3, about once in 1,000.
                    "putEventsFailureRate": Decimal("0.3"),
                    "lostWriteAnswerRate": Decimal("0.05"),
                    "gatewayLostAnswerRate": Decimal("0.1"),
                    "outages": outages,
                }
            },
        )
        if relays_too:
            self.injected.add("relay_outage_windows", len(RELAY_OUTAGES))
        else:
            self.injected.add("consumer_outage_windows", len(OUTAGES))

    def _clear_faults(self) -> None:
        self._plan_table().delete_item(Key={"pk": "FAULTS"})  # idempotent: cleared again on the way out

    def _plan_counters(self) -> Counter[str]:
        """What the functions counted on the plan item: the faults they injected."""
        item = self._plan_table().get_item(Key={"pk": "FAULTS"}, ConsistentRead=True).get("Item") or {}
        return Counter({counter: int(str(item.get(counter, 0))) for counter in FAULT_COUNTERS})

    def _place_in_waves(
        self, products: dict[str, int], count: int, bus: BusSubscriber, settle_timeout: float
    ) -> list[PlacedOrder]:
        """Orders in waves of at most WAVE, each but the last waited for: the local cloud is one emulator
        process, and a larger burst under these faults would run most orders into their deadline."""
        placed: list[PlacedOrder] = []
        while len(placed) < count:
            wave = self._place_orders(products, min(WAVE, count - len(placed)))
            placed += wave
            if len(placed) < count:
                self._wait_until_settled(wave, bus, settle_timeout)
        return placed

    def _place_orders(self, products: dict[str, int], count: int) -> list[PlacedOrder]:
        ids = list(products)

        def one(index: int) -> PlacedOrder:
            lines = [(self.rng.choice(ids), self.rng.choice((1, 1, 2)))]
            if self.rng.random() < 0.3:
                lines.append((self.rng.choice([p for p in ids if p != lines[0][0]]), 1))
            total = Decimal("5.00") * sum(quantity for _, quantity in lines)
            token = "tok_decline" if self.rng.random() < 0.15 else "tok_ok"
            body = {
                "items": [{"productId": p, "quantity": q} for p, q in lines],
                "totalAmount": f"{total:.2f}",
                "payment": {"token": token},
            }
            result = self.api.call("POST", "/orders", body)
            if result.status != 201:
                raise RuntimeError(f"POST /orders: {result.status} {result.body}")
            order = PlacedOrder(result.body["orderId"], lines, total)
            if self.rng.random() < 0.1:
                time.sleep(self.rng.uniform(0, 1.5))
                self.api.call("POST", f"/orders/{order.order_id}/cancel")
            return order

        with ThreadPoolExecutor(max_workers=3) as pool:
            return list(pool.map(one, range(count)))

    def _poison(self) -> list[str]:
        """Malformed events of every kind a consumer can meet, and one of a later eventVersion (well formed for
        all a v1 reader can tell: it is skipped, not parked); returns their ids."""
        ids = []
        events = boto3.client("events")
        for kind in ("not-an-envelope", LATER_VERSION, "missing-fields", "wrong-types"):
            poison_id = f"poison-{kind}-{uuid.uuid4().hex[:8]}"
            metadata = {
                "eventId": poison_id,
                "eventVersion": 1,
                "correlationId": poison_id,
                "causationId": None,
                "occurredAt": "2026-11-22T10:00:00Z",
            }
            detail: Any = {
                "not-an-envelope": {"oops": poison_id},
                LATER_VERSION: {"metadata": {**metadata, "eventVersion": 2}, "data": {"orderId": poison_id}},
                "missing-fields": {"metadata": metadata, "data": {"orderId": poison_id}},
                "wrong-types": {
                    "metadata": metadata,
                    "data": {
                        "orderId": poison_id,
                        "reason": "x",
                        "paymentId": 1,
                        "amount": 12.5,
                        "items": [{"productId": "P", "quantity": "1"}],
                    },
                },
            }[kind]
            for source, detail_type in (("shop.order", "OrderCreated"), ("shop.payment", "PaymentProcessed")):
                events.put_events(
                    Entries=[
                        {
                            "EventBusName": self.outputs["EventBusName"],
                            "Source": source,
                            "DetailType": detail_type,
                            "Detail": json.dumps(detail),
                        }
                    ]
                )
                self.injected.add("poison_events")
            ids.append(poison_id)
        return ids

    def _wait_until_settled(self, placed: list[PlacedOrder], bus: BusSubscriber, timeout: float) -> dict[str, Any]:
        # The local cloud (one emulator process) works through well under one saga a second under these
        # faults: a large run gets time in proportion. Only an order whose end the bus has carried can be
        # settled, so only those are read (reading every pending order each round would load the API).
        deadline = time.monotonic() + max(timeout, 2.5 * len(placed))
        finals: dict[str, Any] = {}
        pending = {order.order_id for order in placed}
        while pending and time.monotonic() < deadline:
            ended = [o for o in pending if {"OrderConfirmed", "OrderCancelled"} & set(bus.types(o))]
            for order_id in ended:
                order = self.api.call("GET", f"/orders/{order_id}").body
                saga = order.get("saga") or {}
                if (
                    order.get("status") != "PENDING"
                    and saga.get("status") in SETTLED
                    and len(bus.events(order_id)) >= len(saga.get("timeline", []))
                ):
                    finals[order_id] = order
                    pending.discard(order_id)
            if pending:
                print(f"  {len(pending)} of {len(placed)} sagas still running ...", flush=True)
                time.sleep(3)
        for order_id in pending:
            finals[order_id] = self.api.call("GET", f"/orders/{order_id}").body
        time.sleep(3)  # let late duplicates land before the checker looks
        return finals

    def _feed_out_of_order(self, placed: list[PlacedOrder], bus: BusSubscriber) -> None:
        """Old events, shuffled, straight into the projector's and the consumers' own queues."""
        targets = {
            "SagaOnSagaEventQueue": None,
            "PaymentOnOrderCreatedQueue": "OrderCreated",
            "InventoryOnPaymentProcessedQueue": "PaymentProcessed",
            "OrderOnInventoryReservedQueue": "InventoryReserved",
            "PaymentOnOrderCancelledQueue": "OrderCancelled",
        }
        sample = self.rng.sample(placed, min(10, len(placed)))
        for queue, detail_type in targets.items():
            events = [
                e for order in sample for e in bus.events(order.order_id) if detail_type in (None, e["detail-type"])
            ]
            self.rng.shuffle(events)
            for event in events:
                self.sqs.send_message(QueueUrl=self.queues[queue], MessageBody=json.dumps(event))
            self.injected.add("out_of_order_feeds", len(events))

    def _drain(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        consumer_queues = [url for name, url in self.queues.items() if not name.endswith("DeadLetterQueue")]
        while time.monotonic() < deadline:
            waiting = 0
            for url in consumer_queues:
                attributes = self.sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"]
                waiting += int(attributes["ApproximateNumberOfMessages"])
                waiting += int(attributes["ApproximateNumberOfMessagesNotVisible"])
            if not waiting:
                return
            time.sleep(2)

    # -- the checker -----------------------------------------------------------------------------

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
            violations += _check_order(order, status, events, payments.get(order.order_id))
            violations += _check_view(order.order_id, status, events, sagas.get(order.order_id))
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
        ledger = self._items_of(self._plan_table(), "GATEWAY#")
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

    def _await_outbox_drained(self, timeout: float = 180) -> list[str]:
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


def _check_order(
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


def _check_view(oid: str, status: str | None, events: list[dict[str, Any]], saga: dict[str, Any] | None) -> list[str]:
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


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga-e2e")
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--expect-violations",
        action="store_true",
        help="negative control: succeed only if the checker finds violations",
    )
    args = parser.parse_args(argv)
    # The negative control needs only enough duplicates to show harm: it skips the slower faults, and
    # waits less for sagas that the missing guards may have left in a state that never settles.
    negative = args.expect_violations
    suite = FaultSuite(
        args.stack, orders=args.orders, seed=args.seed, feed_out_of_order=not negative, relay_outage=not negative
    )
    report = suite.run(settle_timeout=90 if negative else 240)
    print(report.render())
    found = bool(report.violations)
    return 0 if found == args.expect_violations else 1


if __name__ == "__main__":
    sys.exit(main())

"""The fault suite's driver: one run against a deployed test stack, then the checker's verdict.

    python -m tests.support.faults --stack shop-saga-e2e --orders 20     (part of make test)
    python -m tests.support.faults --stack shop-saga-e2e --orders 120    (make chaos)

Needs a stack deployed with FaultInjection=true. It stocks products (less than the demand), starts the
fault plan (`injectors`), places orders in waves while every saga event is delivered again, then a relay
outage for the second half, poison events, and old events fed out of order; once every saga settled and
every outbox drained, the checker (`checker`) reads what the run left. Exit status 0 when there are no
violations (or, with --expect-violations, when there are some: the negative control).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import boto3

from shopctl.stack import ApiClient, api_base_url, customer_token, stack_outputs, stack_queues, wait_until_priced
from tests.support.bus import BusSubscriber
from tests.support.faults.checker import Checker, PlacedOrder, Report
from tests.support.faults.injectors import Duplicator, FaultPlan, Injected, feed_out_of_order, put_poison

SETTLED = {"COMPLETED", "CANCELLED", "COMPENSATION_FAILED"}
# The most orders placed at once (see `_place_in_waves`).
WAVE = 50


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
        self.sqs = boto3.client("sqs")
        self.queues = stack_queues(stack)
        plan_table = self._plan_table()
        self.plan = FaultPlan(plan_table, self.injected)
        tables = {name: self.outputs[f"{name}TableName"] for name in ("Order", "Payment", "Inventory", "Saga")}
        self.checker = Checker(api=self.api, tables=tables, queues=self.queues, plan_table=plan_table)

    def run(self, *, settle_timeout: float = 240) -> Report:
        products = self._products()
        initial = dict(products)
        self.plan.start()
        duplicator = Duplicator(self.outputs["EventBusName"], self.injected, self.rng)
        bus = BusSubscriber(self.outputs["EventBusName"], prefix="fault-suite", on_new_event=duplicator)
        try:
            first_half = self._place_in_waves(products, self.n_orders // 2, bus, settle_timeout)
            self._wait_until_settled(first_half, bus, settle_timeout)
            if self.relay_outage:
                self.plan.start(relays_too=True)
            placed = first_half + self._place_in_waves(products, self.n_orders - len(first_half), bus, settle_timeout)
            poison = put_poison(self.outputs["EventBusName"], self.injected)
            finals = self._wait_until_settled(placed, bus, settle_timeout)
            # A saga can look settled while an older event of it still waits in an outbox (a stream batch
            # given up during the relay outage, for the sweeper): the checker reads the bus only once
            # every outbox has drained and every consumer has caught up.
            counted = self.plan.counted()
            self.plan.stop()  # the faults stop here: what follows is whether everything recovered
            leftover = self.checker.await_outbox_drained()
            if self.feed_out_of_order:
                feed_out_of_order(placed, bus, queues=self.queues, rng=self.rng, injected=self.injected)
            self._drain()
            report = Report(orders=len(placed))
            report.outcomes = Counter(
                "/".join(filter(None, (order.get("status", "?"), order.get("cancellationReason"))))
                for order in finals.values()
            )
            report.injected = +(Counter(self.injected.counts) + counted)
            report.violations = leftover + self.checker.check(placed, finals, bus, initial, poison)
            return report
        finally:
            bus.close()
            duplicator.close()
            self.plan.stop()

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
        return boto3.resource("dynamodb").Table(name)

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

"""Closed-loop load on a deployed stack: N customers, each placing an order and waiting for its end.

Each client places an order through the REST API (as a signed-in customer) and waits until the order is
final before it places the next one. One watcher thread reads the order table for every order in flight
(a consistent BatchGetItem every 50 ms, so watching costs the stack one request per tick, not one per
client) and tells each client when its order is CONFIRMED or CANCELLED; a second watcher does the same
for the saga projector's view, which is how the view lag is measured: from the order final to the view
agreeing. Used by `python -m tools.bench`.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from shop_contracts.saga import TERMINAL_SAGA_STATUSES
from shopctl.stack import ApiClient

TERMINAL_ORDER_STATUSES = {"CONFIRMED", "CANCELLED"}
POLL_SECONDS = 0.05
# BatchGetItem takes at most 100 keys.
BATCH_KEYS = 100


@dataclass
class OrderSample:
    """One order's life as the client saw it (monotonic seconds) and as the saga view tells it."""

    order_id: str
    placed_at: float  # request sent
    accepted_at: float = 0.0  # 201 received
    final_at: float | None = None  # the order table says CONFIRMED or CANCELLED
    status: str | None = None
    view_at: float | None = None  # the saga view is final too
    saga_seconds: float | None = None  # the view's timeline: OrderCreated to the final event
    hops: dict[str, float] = field(default_factory=dict)  # the view's timeline: seconds between its events

    @property
    def post_seconds(self) -> float:
        """The POST's round trip."""
        return self.accepted_at - self.placed_at

    @property
    def to_final_seconds(self) -> float | None:
        """From sending the POST until the order was seen final."""
        return None if self.final_at is None else self.final_at - self.placed_at

    @property
    def view_lag_seconds(self) -> float | None:
        """From the order seen final until its saga view was seen final (0 when it already was)."""
        if self.final_at is None or self.view_at is None:
            return None
        return max(0.0, self.view_at - self.final_at)


# The happy path's events in order: each hop is one service's reaction, from the event it reacted to
# (as committed) to the event it emitted (as committed), so relay, bus, queue and step together.
HAPPY_PATH = ("OrderCreated", "PaymentProcessed", "InventoryReserved", "OrderConfirmed")


def _hops(view: dict[str, Any]) -> dict[str, float]:
    times = {entry.get("type"): entry.get("occurredAt") for entry in view.get("timeline", [])}
    found = {}
    for before, after in itertools.pairwise(HAPPY_PATH):
        if times.get(before) and times.get(after):
            took = datetime.fromisoformat(str(times[after])) - datetime.fromisoformat(str(times[before]))
            found[f"{before}->{after}"] = took.total_seconds()
    return found


def _timeline_seconds(view: dict[str, Any]) -> float | None:
    times = {entry.get("type"): entry.get("occurredAt") for entry in view.get("timeline", [])}
    end = times.get("OrderConfirmed") or times.get("OrderCancelled")
    start = times.get("OrderCreated")
    if not (start and end):
        return None
    return (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()


class Watcher:
    """Polls one table for the items of orders in flight; calls `seen(sample, item, when)` once `done(item)`."""

    def __init__(
        self,
        table_name: str,
        key: Callable[[str], dict[str, str]],
        done: Callable[[dict[str, Any]], bool],
        seen: Callable[[OrderSample, dict[str, Any], float], None],
    ) -> None:
        self._client = boto3.client("dynamodb")
        self._deserialize = TypeDeserializer().deserialize
        self._serialize = TypeSerializer().serialize
        self._table = table_name
        self._key = key
        self._done = done
        self._seen = seen
        self._pending: dict[str, OrderSample] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"watch-{table_name}")
        self.polls = 0

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join()

    def watch(self, sample: OrderSample) -> None:
        """Watch one more order."""
        with self._lock:
            self._pending[sample.order_id] = sample

    def pending(self) -> int:
        """How many orders are still watched."""
        with self._lock:
            return len(self._pending)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ids = list(self._pending)
            for start in range(0, len(ids), BATCH_KEYS):
                self._poll(ids[start : start + BATCH_KEYS])
            self._stop.wait(POLL_SECONDS)

    def _poll(self, ids: list[str]) -> None:
        keys = [{name: self._serialize(value) for name, value in self._key(oid).items()} for oid in ids]
        while keys:
            self.polls += 1
            answer = self._client.batch_get_item(RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}})
            now = time.monotonic()
            for raw in answer["Responses"].get(self._table, []):
                item = {name: self._deserialize(value) for name, value in raw.items()}
                order_id = str(item["pk"]).split("#", 1)[1]
                if not self._done(item):
                    continue
                with self._lock:
                    sample = self._pending.pop(order_id, None)
                if sample is not None:
                    self._seen(sample, item, now)
            unprocessed: dict[str, Any] = answer.get("UnprocessedKeys") or {}
            keys = list((unprocessed.get(self._table) or {}).get("Keys", []))


@dataclass
class Level:
    """What one load level measured."""

    clients: int
    seconds: float
    samples: list[OrderSample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    window_start: float = 0.0
    window_end: float = 0.0

    def completed_in_window(self) -> int:
        """Orders seen final within the level's window."""
        return sum(1 for s in self.samples if s.final_at is not None and s.final_at <= self.window_end)


class LoadRun:
    """Closed-loop clients against one stack; `level(n, seconds)` runs n clients for that long."""

    def __init__(self, api: ApiClient, outputs: dict[str, str], products: list[str]) -> None:
        self.api = api
        self.products = products
        self.orders = Watcher(
            outputs["OrderTableName"],
            key=lambda oid: {"pk": f"ORDER#{oid}"},
            done=lambda item: item.get("status") in TERMINAL_ORDER_STATUSES,
            seen=self._order_final,
        )
        self.views = Watcher(
            outputs["SagaTableName"],
            key=lambda oid: {"pk": f"SAGA#{oid}"},
            done=lambda item: (item.get("view") or {}).get("status") in TERMINAL_SAGA_STATUSES,
            seen=self._view_final,
        )
        self._finals: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> LoadRun:
        self.orders.start()
        self.views.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.orders.stop()
        self.views.stop()

    def _order_final(self, sample: OrderSample, item: dict[str, Any], when: float) -> None:
        sample.final_at = when
        sample.status = str(item.get("status"))
        self.views.watch(sample)
        with self._lock:
            event = self._finals.pop(sample.order_id, None)
        if event is not None:
            event.set()

    def _view_final(self, sample: OrderSample, item: dict[str, Any], when: float) -> None:
        sample.view_at = when
        sample.saga_seconds = _timeline_seconds(item.get("view") or {})
        sample.hops = _hops(item.get("view") or {})

    def place_one(self, rng: random.Random, timeout: float) -> OrderSample:
        """Place one order of one product and wait until it is final (or `timeout` passed)."""
        body = {
            "items": [{"productId": rng.choice(self.products), "quantity": 1}],
            "payment": {"token": "tok_ok"},
        }
        placed = time.monotonic()
        answer = self.api.call("POST", "/orders", body, headers={"Idempotency-Key": str(uuid.uuid4())})
        if answer.status != 201:
            raise RuntimeError(f"POST /orders answered {answer.status}: {answer.body}")
        sample = OrderSample(order_id=str(answer.body["orderId"]), placed_at=placed, accepted_at=time.monotonic())
        final = threading.Event()
        with self._lock:
            self._finals[sample.order_id] = final
        self.orders.watch(sample)
        if not final.wait(timeout):
            with self._lock:
                self._finals.pop(sample.order_id, None)
        return sample

    def level(self, clients: int, seconds: float, *, order_timeout: float = 120.0, seed: int = 1) -> Level:
        """`clients` closed-loop clients for `seconds`; each finishes the order it has in flight at the end."""
        level = Level(clients=clients, seconds=seconds)
        lock = threading.Lock()
        level.window_start = time.monotonic()
        level.window_end = level.window_start + seconds

        def client(number: int) -> None:
            rng = random.Random(seed * 1000 + number)
            while time.monotonic() < level.window_end:
                try:
                    sample = self.place_one(rng, order_timeout)
                except Exception as exc:  # a failed request is a finding of the run, not a crash of it
                    with lock:
                        level.errors.append(str(exc)[:300])
                    time.sleep(0.2)
                    continue
                with lock:
                    level.samples.append(sample)

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return level

    def settle_views(self, timeout: float) -> int:
        """Wait until every final order's saga view is final too; returns how many are still not."""
        deadline = time.monotonic() + timeout
        while self.views.pending() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.views.pending()

"""The client's loop: signed-in customers who place an order and learn its outcome from the API, as a web client.

Each client is a customer of its own (a user of the stack's pool, signed in before the run) that places one
order through `POST /orders`, then asks `GET /orders/{id}` until the order is CONFIRMED or CANCELLED,
waiting `poll` seconds before the first ask and half as long again before each next one, up to `poll_max`
(a web client showing progress), then places the next. So every figure includes what a real client pays:
the authorizer, the API, the order Lambda and its read of the order and of the saga view. The server's
view comes from the same answers: the saga's timeline in the final `GET` gives its duration and hops.

A stack without a user pool (an older commit, for the A/B in docs/benchmarks.md) is called anonymously with
the customer in the body, as it then expected. `burst` is the cold level: many customers at once, once.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopctl.stack import ApiClient, customer_token

TERMINAL = {"CONFIRMED", "CANCELLED"}
PASSWORD = "Bench-Passw0rd-2026"
HAPPY_PATH = ("OrderCreated", "PaymentProcessed", "InventoryReserved", "OrderConfirmed")


@dataclass(frozen=True)
class Poll:
    """How a client asks for its order's outcome."""

    first: float = 0.5
    factor: float = 1.5
    most: float = 2.0
    give_up: float = 120.0

    def waits(self) -> Any:
        """The waits before each ask, as a generator."""
        wait = self.first
        while True:
            yield wait
            wait = min(self.most, wait * self.factor)


@dataclass
class ClientOrder:
    """One order as its client saw it (monotonic seconds)."""

    sent_at: float
    customer: int = 0  # which client placed it
    answered_at: float = 0.0
    status_code: int = 0
    order_id: str | None = None
    outcome: str | None = None
    reason: str | None = None
    outcome_at: float | None = None
    polls: int = 0
    get_seconds: list[float] = field(default_factory=list)
    get_errors: dict[int, int] = field(default_factory=dict)
    saga_seconds: float | None = None
    hops: dict[str, float] = field(default_factory=dict)

    @property
    def post_seconds(self) -> float:
        """The POST's round trip."""
        return self.answered_at - self.sent_at

    @property
    def to_outcome_seconds(self) -> float | None:
        """From sending the POST until a GET showed the outcome."""
        return None if self.outcome_at is None else self.outcome_at - self.sent_at


def _timeline(view: dict[str, Any]) -> tuple[float | None, dict[str, float]]:
    times = {entry.get("type"): entry.get("occurredAt") for entry in view.get("timeline") or []}

    def between(first: str, last: str) -> float | None:
        if not (times.get(first) and times.get(last)):
            return None
        took = datetime.fromisoformat(str(times[last])) - datetime.fromisoformat(str(times[first]))
        return took.total_seconds()

    end = "OrderConfirmed" if times.get("OrderConfirmed") else "OrderCancelled"
    hops = {f"{a}->{b}": seconds for a, b in itertools.pairwise(HAPPY_PATH) if (seconds := between(a, b)) is not None}
    return between("OrderCreated", end), hops


@dataclass(frozen=True)
class Customer:
    """One client's way in: its API client, and what its orders carry besides the lines."""

    api: ApiClient
    extra: dict[str, Any]


def customers(api: ApiClient, outputs: dict[str, str], count: int, label: str) -> list[Customer]:
    """`count` customers, each signed in to the stack's pool (made with the admin flow, before any run)."""
    if "UserPoolId" not in outputs:  # a stack from before sign-in: the customer is named in the body
        return [Customer(api, {"customerId": f"{label}-{n}", "currency": "USD"}) for n in range(count)]

    def sign_in(n: int) -> Customer:
        token = customer_token(outputs, f"{label}-{n}@bench.example", PASSWORD)
        return Customer(api.as_customer(token), {})

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(sign_in, range(count)))


def place_and_follow(customer: Customer, product: str, price: str, poll: Poll, number: int = 0) -> ClientOrder:
    """One order, from its POST until a GET shows its outcome (or `poll.give_up` passed)."""
    body = {
        "items": [{"productId": product, "quantity": 1}],
        "totalAmount": price,
        "payment": {"token": "tok_ok"},
        **customer.extra,
    }
    order = ClientOrder(sent_at=time.monotonic(), customer=number)
    try:
        answer = customer.api.call("POST", "/orders", body, headers={"Idempotency-Key": str(uuid.uuid4())})
    except OSError:  # no answer within the client's timeout (status 0)
        order.answered_at = time.monotonic()
        return order
    order.answered_at, order.status_code = time.monotonic(), answer.status
    if answer.status != 201 or not isinstance(answer.body, dict):
        return order
    order.order_id = str(answer.body["orderId"])
    for wait in poll.waits():
        if time.monotonic() - order.sent_at > poll.give_up:
            break
        time.sleep(wait)
        asked = time.monotonic()
        try:
            found = customer.api.call("GET", f"/orders/{order.order_id}")
        except OSError:
            order.get_errors[0] = order.get_errors.get(0, 0) + 1
            continue
        order.get_seconds.append(time.monotonic() - asked)
        order.polls += 1
        if found.status != 200 or not isinstance(found.body, dict):
            order.get_errors[found.status] = order.get_errors.get(found.status, 0) + 1
            continue
        if found.body.get("status") in TERMINAL:
            order.outcome_at = time.monotonic()
            order.outcome = str(found.body["status"])
            order.reason = found.body.get("cancellationReason")
            order.saga_seconds, order.hops = _timeline(found.body.get("saga") or {})
            break
    return order


@dataclass
class ClientLevel:
    """What one level of the client's loop measured."""

    clients: int
    seconds: float
    orders: list[ClientOrder] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    window_end: float = 0.0

    def completed_in_window(self) -> int:
        """Orders whose outcome a client saw within the level's window."""
        return sum(1 for o in self.orders if o.outcome_at is not None and o.outcome_at <= self.window_end)


def level(
    people: list[Customer], products: list[str], price: str, seconds: float, *, poll: Poll, seed: int
) -> ClientLevel:
    """Closed-loop clients, one per customer, for `seconds`; each finishes the order it has in flight."""
    measured = ClientLevel(clients=len(people), seconds=seconds)
    lock = threading.Lock()
    measured.window_end = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < measured.window_end:
            try:
                order = place_and_follow(people[number], rng.choice(products), price, poll, number)
            except Exception as exc:  # a failed request is a finding of the run, not a crash of it
                with lock:
                    measured.errors.append(str(exc)[:300])
                time.sleep(0.2)
                continue
            with lock:
                measured.orders.append(order)

    _run_all(client, len(people))
    return measured


def burst(people: list[Customer], product: str, price: str, poll: Poll) -> list[ClientOrder]:
    """Every customer places one order of `product` at the same moment and follows it to its outcome."""
    start = threading.Barrier(len(people))
    found: list[ClientOrder] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        start.wait()
        order = place_and_follow(people[number], product, price, poll, number)
        with lock:
            found.append(order)

    _run_all(client, len(people))
    return found


def _run_all(client: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def read_path(people: list[Customer], orders: list[ClientOrder], seconds: float) -> int:
    """Each customer asks for its own orders, one after another, for `seconds`: how many GETs were answered."""
    owned: dict[int, list[str]] = {}
    for order in orders:
        if order.order_id is not None and order.customer < len(people):
            owned.setdefault(order.customer, []).append(order.order_id)
    asked = dict.fromkeys(owned, 0)
    until = time.monotonic() + seconds

    def client(number: int) -> None:
        own = owned[number]
        while time.monotonic() < until:
            people[number].api.call("GET", f"/orders/{own[asked[number] % len(own)]}")
            asked[number] += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in owned]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(asked.values())

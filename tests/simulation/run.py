"""A deterministic simulator of the whole choreography: one seed, one schedule, replayable exactly.

    python -m tests.simulation.run --seeds 2000            # seeds 0..1999 (make simulate SEEDS=2000)
    python -m tests.simulation.run --seed 42 --trace       # replay one seed and print its schedule

A seeded random source picks every step: place an order, cancel one, let a relay publish one outbox row
(and maybe crash before removing it), deliver one message from any queue in any order (maybe crashing
before the work or after the commit, maybe running a second delivery in the middle of the first's
write, maybe with the gateway losing its answer or refusing refunds), duplicate a message, let time pass
beyond deadlines, fire deadlines (schedules may fail to be created), run the sweeper, redrive the DLQs.
Then the faults stop and the world settles. The invariants of the design are checked at every step
(stock never negative, the gateway never called again for money it already moved) and at the end
(nothing lost, money, stock, the records, the saga views and their order-insensitivity).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

from order.models.order import OrderStatus
from payment.models.payment import PaymentStatus
from saga.dal.saga_repository import SagaRepository
from saga.logic.fold import saga_view
from shared.observability import logger
from shop_contracts.saga import VIEW_ATTRIBUTE
from tests.simulation.world import (
    DEADLINE_SECONDS,
    Message,
    Queue,
    Reaction,
    World,
    position,
)
from tests.simulation.world import (
    VISIBILITY_TIMEOUT as VISIBILITY,
)

PRODUCTS = {"LAPTOP": ("1299.99", 6), "MOUSE": ("59.90", 9), "DOCK": ("189.00", 4)}
TOKENS = ["tok_ok"] * 15 + ["tok_decline"] * 2 + ["tok_pending"] * 2
CHAOS_STEPS = 400
SETTLE_ROUNDS = 60


@dataclass
class Run:
    """What one seed did and what it broke."""

    seed: int
    steps: int = 0
    orders: int = 0
    violations: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def replay_command(self, extra: str = "") -> str:
        """The command that replays this seed with its trace."""
        return f"python -m tests.simulation.run --seed {self.seed} --trace{extra}"


@contextmanager
def deterministic(seed: int, world_clock: Callable[[], datetime]) -> Iterator[None]:
    """Ids and event times from the seed and the simulated clock, so a replay is exact (test-only patches of
    the two places that draw them: new event ids and order ids, and an event's occurredAt)."""
    ids = random.Random(f"ids-{seed}")

    def next_uuid() -> uuid.UUID:
        return uuid.UUID(int=ids.getrandbits(128), version=4)

    class SimDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> SimDatetime:  # type: ignore[override]
            return world_clock()  # type: ignore[return-value]

    with ExitStack() as stack:
        stack.enter_context(mock.patch("shop_contracts.envelope.uuid4", next_uuid))
        stack.enter_context(mock.patch("order.logic.place_order.uuid4", next_uuid))
        stack.enter_context(mock.patch("shop_contracts.envelope.datetime", SimDatetime))
        level = logger.log_level
        logger.setLevel("CRITICAL")  # the real logic logs every step; thousands of runs would drown the output
        try:
            yield
        finally:
            logger.setLevel(level)


def simulate(
    seed: int,
    *,
    orders: int = 10,
    guards_off: frozenset[str] = frozenset(),
    planted: dict[str, Callable[[Reaction, World], Reaction]] | None = None,
) -> Run:
    """Run one seed to the end and check the invariants."""
    rng = random.Random(seed)
    run = Run(seed)
    world: World | None = None
    with deterministic(seed, lambda: world.now if world else datetime.now(UTC)):
        world = World(PRODUCTS, guards_off=guards_off, planted=planted)
        names = _Names()
        to_place = orders
        for step in range(CHAOS_STEPS):
            action = _choose(rng, world, to_place)
            if action is None:
                break
            placed_before = len(world.placed)
            note = _act(action, rng, world, names)
            to_place -= len(world.placed) - placed_before  # a refused order (its price not known yet) is retried
            run.trace.append(f"{step:4d} t+{_elapsed(world):>5}s {action:<9} {names.apply(note)}")
            run.violations += [f"step {step}: {v}" for v in _check_step(world)]
            run.steps = step + 1
            if run.violations:
                break
        if not run.violations:
            run.trace.append("---- faults stop; the world settles ----")
            _settle(world, run, names)
            run.violations += _check_end(world)
        run.orders = len(world.placed)
        run.outcomes = Counter(
            (order.status.value if (order := world.orders.orders.get(o)) else "?") for o in world.placed
        )
        run.trace = [names.apply(line) for line in run.trace]
        run.violations = [names.apply(v) for v in run.violations]
    return run


class _Names:
    """Short, stable names for the ids in a trace (o1, o2, ...)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def order(self, order_id: str) -> str:
        return self.names.setdefault(order_id, f"o{len(self.names) + 1}")

    def apply(self, text: str) -> str:
        for long, short in self.names.items():
            text = text.replace(long, short)
        return text


def _elapsed(world: World) -> int:
    return int((world.now - datetime.fromisoformat("2026-12-04T12:00:00+00:00")).total_seconds())


def _choose(rng: random.Random, world: World, to_place: int) -> str | None:
    pending = [o for o in world.placed if _status(world, o) is OrderStatus.PENDING]
    visible = any(world.visible(q) for q in world.queues.values())
    weights = {
        "place": 3.0 if to_place else 0.0,
        "cancel": 0.4 if pending else 0.0,
        "relay": 4.0 if any(world.outbox(s) for s in ("order", "payment", "inventory")) else 0.0,
        "deliver": 6.0 if visible else 0.0,
        "duplicate": 0.5 if visible else 0.0,
        "interleave": 1.0 if visible else 0.0,
        "tick": 1.0,
        "late": 0.15,
        "deadlines": 1.0 if world.scheduler.deadlines or world.scheduler.due_now else 0.0,
        "sweep": 0.3,
        "redrive": 0.3 if any(q.dead for q in world.queues.values()) else 0.0,
    }
    if not to_place and not world.pending_work() and not pending:
        return None
    choices = [action for action, weight in weights.items() if weight]
    return rng.choices(choices, [weights[c] for c in choices])[0]


def _act(action: str, rng: random.Random, world: World, names: _Names) -> str:
    if action == "place":
        lines = {p: rng.randint(1, 3) for p in rng.sample(sorted(PRODUCTS), rng.randint(1, 2))}
        token = rng.choice(TOKENS)
        placed = world.place(lines, token)
        if placed and not placed.startswith("refused"):
            names.order(placed)
        return f"{lines} {token} -> {placed}"
    if action == "cancel":
        order_id = rng.choice([o for o in world.placed if _status(world, o) is OrderStatus.PENDING])
        return f"{order_id}: {world.cancel(order_id)}"
    if action == "relay":
        service = rng.choice([s for s in ("order", "payment", "inventory") if world.outbox(s)])
        rows = world.outbox(service)
        crash = rng.random() < 0.1
        published = world.relay(service, rows[rng.randrange(len(rows))], crash_before_delete=crash)
        return f"{service}: {published}" + (" (relay crashed before removing the row)" if crash else "")
    if action in ("deliver", "interleave"):
        return _deliver(action, rng, world)
    if action == "duplicate":
        queue, index = _pick(rng, world)
        queue.messages.append(Message(queue.messages[index].body))
        return f"{queue.name}: a second copy of {_about(queue.messages[index])}"
    if action == "tick":
        world.advance(rng.randint(1, 20))
        return "time passes"
    if action == "late":
        world.advance(rng.randint(DEADLINE_SECONDS // 2, DEADLINE_SECONDS * 2))
        return "a long pause (deadlines pass)"
    if action == "deadlines":
        return f"deadlines fire for {world.fire_deadlines()}"
    if action == "sweep":
        return f"the sweeper expired {world.sweep()} order(s)"
    if action == "redrive":
        return f"an operator redrove {world.redrive()} message(s)"
    raise AssertionError(action)


def _deliver(action: str, rng: random.Random, world: World) -> str:
    """Receive one visible message (alone, or with a second delivery at once), faults drawn from the seed."""
    queue, index = _pick(rng, world)
    about = _about(queue.messages[index])
    crash = rng.choices([None, "before", "after"], [0.85, 0.05, 0.1])[0]
    fault = rng.choices([None, "lost_before", "lost_after", "refuse_refund"], [0.8, 0.05, 0.05, 0.1])[0]
    world.scheduler.failing = rng.random() < 0.1
    world.gateway.fault = fault
    try:
        if action == "interleave":
            return _interleave(rng, world, queue, index, about)
        outcome = world.deliver(queue, index, crash=crash)
    finally:
        world.gateway.fault, world.scheduler.failing = None, False
    return f"{queue.name} <- {about}{f' [gateway: {fault}]' if fault else ''}: {outcome}"


def _pick(rng: random.Random, world: World) -> tuple[Queue, int]:
    queue = rng.choice([q for q in world.queues.values() if world.visible(q)])
    return queue, rng.choice(world.visible(queue))


def _interleave(rng: random.Random, world: World, queue: Queue, index: int, about: str) -> str:
    """Deliver one message, and a second one in the middle of the first's first write: two consumers at
    once, as Lambda runs them. Half the time the second is a copy of the first (SQS delivers a duplicate
    to two workers at once), else any other message of any queue."""
    first = queue.messages[index]
    others = [(q, q.messages[i]) for q in world.queues.values() for i in world.visible(q) if q.messages[i] is not first]
    if not others or rng.random() < 0.5:
        other_queue, other = queue, Message(first.body)
        queue.messages.append(other)
    else:
        other_queue, other = rng.choice(others)
    seen: list[str] = []

    def second() -> None:
        if (at := position(other_queue.messages, other)) is not None:
            seen.append(world.deliver(other_queue, at, crash=None))

    world.before_next_write(second)
    outcome = world.deliver(queue, index, crash=None)
    world.before_next_write(None)
    return f"{queue.name} <- {about} with {other_queue.name} <- {_about(other)} at once: {outcome} / {seen}"


def _about(message: Message) -> str:
    body = message.body
    if '"orderId"' in body and "detail-type" not in body:
        return f"deadline of {body.split(chr(34))[3]}"
    event = json.loads(body)
    data = event["detail"]["data"]
    return f"{event['detail-type']}({data.get('orderId') or data.get('productId')})"


def _status(world: World, order_id: str) -> OrderStatus | None:
    order = world.orders.orders.get(order_id)
    return order.status if order else None


def _settle(world: World, run: Run, names: _Names) -> None:
    """Faults off: publish, deliver, let deadlines pass, sweep and redrive until nothing is left to do."""
    for round_ in range(SETTLE_ROUNDS):
        busy = False
        for service in ("order", "payment", "inventory"):
            for pk in world.outbox(service):
                world.relay(service, pk, crash_before_delete=False)
                busy = True
        for queue in world.queues.values():
            while visible := world.visible(queue):
                world.deliver(queue, visible[0], crash=None)
                busy = True
        if busy:
            continue
        if any(q.messages for q in world.queues.values()):
            world.advance(VISIBILITY.total_seconds())  # failed deliveries come back after their timeout
            continue
        pending = [o for o in world.placed if _status(world, o) is OrderStatus.PENDING]
        if not pending and not world.pending_work():
            run.trace.append(f"settled after {round_} rounds")
            return
        world.advance(DEADLINE_SECONDS + 5)
        world.fire_deadlines()
        world.sweep()
        world.redrive()
    run.violations.append(f"the world did not settle in {SETTLE_ROUNDS} rounds")


def _check_step(world: World) -> list[str]:
    """What must hold at every moment."""
    violations = [f"stock of {p} is {world.available(p)}" for p in PRODUCTS if world.available(p) < 0]
    for (kind, key), calls in world.gateway.calls.items():
        if calls > 1 + world.gateway.lost[kind, key]:
            violations.append(
                f"the gateway was asked to {kind} {key} {calls} times, {world.gateway.lost[kind, key]} lost"
            )
    return violations


def _held_and_reported(world: World, order_id: str, payment: Any, events: dict[str, dict[str, Any]]) -> bool:
    """Money the payment service cannot know it took: every answer of every charge call under the order's key
    was lost, the last delivery's included, so the charge is OUTCOME_UNKNOWN and its refund told operators
    (CompensationFailed, charge_outcome_unknown) to reconcile it with the provider. Nothing else may hold money."""
    key = ("charge", order_id)
    reported = any(
        e["detail-type"] == "CompensationFailed" and e["detail"]["data"].get("reasonCode") == "charge_outcome_unknown"
        for e in events.values()
    )
    unknown = payment is not None and payment.status is PaymentStatus.OUTCOME_UNKNOWN
    return unknown and reported and world.gateway.lost[key] == world.gateway.calls[key] > 0


def _check_end(world: World) -> list[str]:
    """Nothing lost, money, stock, records, views; nothing left in flight."""
    violations: list[str] = []
    sold: Counter[str] = Counter()
    by_saga: dict[str, dict[str, dict[str, Any]]] = {}
    for event in world.bus_log:
        by_saga.setdefault(event["detail"]["metadata"]["correlationId"], {})[event["detail"]["metadata"]["eventId"]] = (
            event
        )
    for order_id, placed in world.placed.items():
        order = world.orders.orders.get(order_id)
        assert order is not None
        status = order.status
        if status is OrderStatus.PENDING:
            violations.append(f"lost order {order_id}: still PENDING")
            continue
        payment = world.payments.payments.get(order_id)
        charged = world.gateway.charged.get(order_id, Decimal(0))
        refunded = (
            world.gateway.refunded.get(payment.payment_id, Decimal(0)) if payment and payment.payment_id else Decimal(0)
        )
        expected = placed.total if status is OrderStatus.CONFIRMED else Decimal(0)
        events = by_saga.get(order_id, {})
        if charged - refunded != expected and not _held_and_reported(world, order_id, payment, events):
            violations.append(
                f"money of {order_id} ({status.value}): charged {charged} - refunded {refunded} != {expected}"
            )
        kinds = Counter(e["detail-type"] for e in events.values())
        for kind in ("PaymentProcessed", "PaymentRefunded", "InventoryReserved", "InventoryReleased", "OrderCreated"):
            if kinds[kind] > 1:
                violations.append(f"{order_id}: {kinds[kind]} distinct {kind} events")
        if kinds["OrderConfirmed"] + kinds["OrderCancelled"] != 1:
            violations.append(
                f"{order_id}: {kinds['OrderConfirmed']} OrderConfirmed, {kinds['OrderCancelled']} OrderCancelled"
            )
        if status is OrderStatus.CONFIRMED:
            sold.update(placed.lines)
            if payment is None or payment.status.value != "SETTLED":
                violations.append(f"confirmed {order_id}: payment {payment and payment.status.value}")
        violations += _check_view(world, order_id, status, events)
    for product_id, units in world.initial_stock.items():
        if units - world.available(product_id) != sold[product_id]:
            violations.append(
                f"stock of {product_id}: {units} - {world.available(product_id)} != {sold[product_id]} sold"
            )
    violations += _check_metrics(world)
    if world.pending_work():
        violations.append("work left in flight after settling")
    return violations


def _check_metrics(world: World) -> list[str]:
    """The projector's business metrics count each order exactly once, whatever the bus repeated."""
    Key = tuple[str, tuple[str, str] | None]
    final: Counter[Key] = Counter(
        ("OrdersConfirmed", None)
        if order.status is OrderStatus.CONFIRMED
        else ("OrdersCancelled", ("reason", str(order.cancellation_reason)))
        for order_id in world.placed
        if (order := world.orders.orders.get(order_id)) is not None and order.status is not OrderStatus.PENDING
    )
    final[("OrdersPlaced", None)] = len(world.placed)
    measured: Counter[Key] = Counter((name, by) for name, _, by in world.measures.seen if name in ORDER_METRICS)
    durations = sum(1 for name, _, _ in world.measures.seen if name == "SagaDuration")
    problems = [
        f"metrics: {key} measured {measured[key]} times, {final[key]} orders"
        for key in final | measured
        if measured[key] != final[key]
    ]
    if durations != len(world.placed):
        problems.append(f"metrics: {durations} saga durations for {len(world.placed)} orders")
    return problems


ORDER_METRICS = {"OrdersPlaced", "OrdersConfirmed", "OrdersCancelled"}


def _check_view(world: World, order_id: str, status: OrderStatus, events: dict[str, dict[str, Any]]) -> list[str]:
    item = world.tables["saga"].items.get(f"SAGA#{order_id}") or {}
    view = item.get(VIEW_ATTRIBUTE) or {}
    wanted = "COMPLETED" if status is OrderStatus.CONFIRMED else "CANCELLED"
    payment = world.payments.payments.get(order_id)
    if payment is not None and payment.status is PaymentStatus.OUTCOME_UNKNOWN:
        wanted = "COMPENSATION_FAILED"  # after the world settled, only a charge nobody knows the outcome of
    violations = []
    if view.get("status") != wanted:
        violations.append(f"the saga view of {order_id} says {view.get('status')}, the order is {status.value}")
    seen = list(SagaRepository(world.tables["saga"]).get(order_id).events.values())
    if {e["eventId"] for e in seen} != set(events):
        violations.append(f"the saga view of {order_id} holds {len(seen)} events, the bus carried {len(events)}")
    shuffled = list(seen)
    random.Random(order_id).shuffle(shuffled)
    if seen and saga_view(shuffled) != saga_view(seen):
        violations.append(f"the saga view of {order_id} depends on the order of its events")
    return violations


def explore(seeds: range, **options: Any) -> tuple[list[Run], float]:
    """Run every seed; returns the failing runs and the seconds it took."""
    started = time.perf_counter()
    failing = [run for seed in seeds if (run := simulate(seed, **options)).violations]
    return failing, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200, help="run seeds 0..N-1")
    parser.add_argument("--first", type=int, default=0, help="start at this seed")
    parser.add_argument("--seed", type=int, help="run this one seed only")
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--trace", action="store_true", help="print the schedule of each failing (or the one) run")
    args = parser.parse_args(argv)
    if args.seed is not None:
        run = simulate(args.seed, orders=args.orders)
        print("\n".join(run.trace) if args.trace else f"{run.steps} steps")
        print(f"seed {run.seed}: {run.orders} orders {dict(run.outcomes)}; violations: {run.violations or 'none'}")
        return 1 if run.violations else 0
    seeds = range(args.first, args.first + args.seeds)
    failing: list[Run] = []
    started = time.perf_counter()
    for seed in seeds:
        run = simulate(seed, orders=args.orders)
        if run.violations:
            failing.append(run)
            print(f"seed {seed} FAILED: {run.violations[0]}\n  replay: {run.replay_command()}", flush=True)
        if (seed - args.first + 1) % 500 == 0:
            elapsed = time.perf_counter() - started
            print(
                f"  {seed - args.first + 1} seeds in {elapsed:.0f}s ({(seed - args.first + 1) / elapsed:.1f}/s)",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    print(
        f"{len(seeds)} seeds in {elapsed:.1f}s ({len(seeds) / elapsed:.1f} runs/s): "
        f"{len(failing)} failing{': ' + ', '.join(str(r.seed) for r in failing[:20]) if failing else ''}"
    )
    if failing and args.trace:
        print("\n".join(failing[0].trace[-60:]))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())

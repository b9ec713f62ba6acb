"""The simulated cloud: every service's real logic on in-memory tables, joined by a simulated bus, per-consumer
queues, relays, a deadline scheduler, a sweeper and a payment gateway, all driven step by step.

Nothing here decides *what* happens next: the scheduler (`tests/simulation/run.py`) picks each step from a
seeded random source, so a run is a function of its seed. The world only carries a step out, the way the
deployed stack would: a relay publishes one outbox row to every queue whose template rule matches it (and
removes the row, unless it crashes first); a delivery runs the consumer's real reaction as
`shared/consumer.py` does (a duplicate is acknowledged, a failure is delivered again, the last failure
gives up and dead-letters); deadlines fire from the schedules the order service asked for.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from inventory.dal.inventory_repository import InventoryUnitOfWork
from inventory.logic.commit_stock import commit_stock
from inventory.logic.manage_products import set_product
from inventory.logic.release_stock import release_stock, report_release_failure
from inventory.logic.reserve_stock import reserve_stock
from inventory.models.stock import ProductUpdate
from order.dal.order_repository import OrderUnitOfWork
from order.logic.finish_order import (
    cancel_on_inventory_failed,
    cancel_on_payment_failed,
    cancel_on_request,
    confirm_or_note_payment,
    confirm_or_note_reservation,
    expire_order,
)
from order.logic.place_order import place_order
from order.logic.record_price import record_price
from order.logic.schedule_deadline import schedule_deadline
from order.logic.sweep_deadlines import expire_overdue_orders
from order.models.errors import OrderAlreadyFinal
from order.models.order import PlaceOrderRequest
from payment.dal.payment_repository import PaymentUnitOfWork
from payment.logic.charge_order import charge_order, resolve_unanswered_charge
from payment.logic.refund_payment import refund_payment, report_refund_failure
from payment.logic.settle_payment import settle_payment
from payment.models.gateway import Decision, RefundRejected, SimulatedGateway
from saga.dal.saga_repository import SagaRepository
from saga.logic.project_event import project_event
from shared.errors import DuplicateEvent
from shared.outbox import OUTBOX_PREFIX
from shared.storage import Item, Key, Table, Write
from shared.testing.guards import UnguardedTable
from shop_contracts.envelope import Envelope
from shop_contracts.registry import parse_any
from tests.support.fakes import TOKENS, RecordedMeasures
from tests.support.memory import InMemoryTable
from tools.template import subscriptions

MAX_RECEIVE_COUNT = 3  # the template's default
VISIBILITY_TIMEOUT = timedelta(seconds=60)  # the template's ConsumerVisibilityTimeout
DEADLINE_SECONDS = 60
T0 = datetime.fromisoformat("2026-12-04T12:00:00+00:00")


class GatewayTimeout(Exception):
    """The gateway call timed out: the caller cannot tell whether it took effect."""


@dataclass
class SimGateway:
    """The simulated gateway with a provider's ledger: money moves once per idempotency key, and every call
    is counted, with those whose answer was lost. The scheduler sets `fault` before a delivery."""

    fault: str | None = None  # "lost_before" | "lost_after" | "refuse_refund" | None
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    lost: Counter[tuple[str, str]] = field(default_factory=Counter)
    charged: dict[str, Decimal] = field(default_factory=dict)
    refunded: dict[str, Decimal] = field(default_factory=dict)
    _answers: SimulatedGateway = field(default_factory=SimulatedGateway)

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
        """Charge once per key; a repeated key gets the first answer and moves nothing."""
        self.calls["charge", idempotency_key] += 1
        if self.fault == "lost_before":
            self.lost["charge", idempotency_key] += 1
            raise GatewayTimeout("charge timed out before the provider saw it")
        decision = self._answers.charge(idempotency_key=idempotency_key, token=token, amount=amount)
        if decision.approved:
            self.charged.setdefault(idempotency_key, amount)
        if self.fault == "lost_after":
            self.lost["charge", idempotency_key] += 1
            raise GatewayTimeout("charge timed out after the provider took it")
        return decision

    def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
        """Refund once per key; refused while the scheduler says the provider refuses."""
        self.calls["refund", idempotency_key] += 1
        if self.fault == "refuse_refund":
            self.lost["refund", idempotency_key] += 1
            raise RefundRejected("the gateway rejected the refund")
        self._answers.refund(idempotency_key=idempotency_key, amount=amount)
        self.refunded.setdefault(idempotency_key, amount)
        if self.fault == "lost_after":
            self.lost["refund", idempotency_key] += 1
            raise GatewayTimeout("refund timed out after the provider took it")


@dataclass
class SimScheduler:
    """EventBridge Scheduler as the order service uses it: one schedule per order; `failing` refuses."""

    failing: bool = False
    deadlines: dict[str, datetime] = field(default_factory=dict)
    due_now: list[str] = field(default_factory=list)

    def fire_now(self, order_id: str) -> None:
        """A deadline already due goes to the deadline queue at once."""
        self.due_now.append(order_id)

    def schedule(self, order_id: str, at: datetime) -> bool:
        """One schedule per order; False when it exists."""
        if self.failing:
            raise ConnectionError("the scheduler is unavailable")
        if order_id in self.deadlines:
            return False
        self.deadlines[order_id] = at
        return True


@dataclass
class Message:
    """One message in a queue: the EventBridge event as JSON (or a deadline), its receive count, and when
    it can be received again (a message received and not acknowledged stays hidden for the visibility
    timeout)."""

    body: str
    receives: int = 0
    visible_at: datetime = T0


@dataclass
class Queue:
    """A consumer's queue and its dead-letter queue; messages leave in any order."""

    name: str
    messages: list[Message] = field(default_factory=list)
    dead: list[Message] = field(default_factory=list)


Reaction = Callable[[Envelope[Any]], None]
GiveUp = Callable[[Envelope[Any], Exception], object]


@dataclass
class Placed:
    """An order the API accepted."""

    order_id: str
    total: Decimal
    lines: dict[str, int]


class World:
    """The whole choreography in one process, on in-memory tables."""

    def __init__(
        self,
        products: dict[str, tuple[str, int]],
        *,
        guards_off: frozenset[str] = frozenset(),
        planted: dict[str, Callable[[Reaction, World], Reaction]] | None = None,
    ) -> None:
        self.now = T0
        self.tables: dict[str, InMemoryTable] = {
            name: InMemoryTable.like(f"{name.capitalize()}Table") for name in ("order", "payment", "inventory", "saga")
        }

        self._before_write: Callable[[], None] | None = None

        def table(name: str) -> Table:
            inner: Table = self.tables[name]
            if guards_off:
                inner = UnguardedTable(inner, guards_off)
            return _Interleaving(inner, self)

        self.orders = OrderUnitOfWork(table("order"))
        self.payments = PaymentUnitOfWork(table("payment"))
        self.inventory = InventoryUnitOfWork(table("inventory"))
        self.sagas = SagaRepository(table("saga"))
        self.measures = RecordedMeasures()  # the projector measures; the simulator checks the counts
        self.gateway = SimGateway()
        self.scheduler = SimScheduler()
        self.reactions = self._reactions()
        for name, bug in (planted or {}).items():  # a negative control's planted bug, around the real reaction
            react, give_up = self.reactions[name]
            self.reactions[name] = (bug(react, self), give_up)
        self.routes = _routes_from_template()
        missing = set(self.routes) - set(self.reactions)
        assert not missing, f"the simulator has no reaction for the template's consumers {missing}"
        self.queues = {name: Queue(name) for name in [*self.routes, "OrderDeadline"]}
        self.bus_log: list[dict[str, Any]] = []  # every event put on the bus, duplicates included
        self.placed: dict[str, Placed] = {}
        self.initial_stock = {product_id: units for product_id, (_, units) in products.items()}
        for product_id, (price, units) in products.items():
            set_product(
                product_id,
                ProductUpdate(name=product_id, price=Decimal(price), available=units),
                if_match=None,
                uow=self.inventory,
            )

    def _reactions(self) -> dict[str, tuple[Reaction, GiveUp | None]]:
        o, p, i = self.orders, self.payments, self.inventory
        return {
            "OrderOnOrderCreated": (lambda e: schedule_deadline(e, scheduler=self.scheduler, now=self.now), None),
            "OrderOnPaymentFailed": (lambda e: cancel_on_payment_failed(e, uow=o, now=self.now), None),
            "OrderOnInventoryFailed": (lambda e: cancel_on_inventory_failed(e, uow=o, now=self.now), None),
            "OrderOnInventoryReserved": (lambda e: confirm_or_note_reservation(e, uow=o, now=self.now), None),
            "OrderOnPaymentProcessed": (lambda e: confirm_or_note_payment(e, uow=o, now=self.now), None),
            "OrderOnProductPriced": (lambda e: record_price(e, uow=o), None),
            "PaymentOnOrderCreated": (
                lambda e: charge_order(e, uow=p, gateway=self.gateway, tokens=TOKENS, now=self.now),
                lambda e, error: resolve_unanswered_charge(e, error, uow=p, gateway=self.gateway, tokens=TOKENS),
            ),
            "PaymentOnOrderCancelled": (
                lambda e: refund_payment(e, uow=p, gateway=self.gateway, now=self.now),
                lambda e, error: report_refund_failure(e, error, uow=p),
            ),
            "PaymentOnOrderConfirmed": (lambda e: settle_payment(e, uow=p), None),
            "InventoryOnPaymentProcessed": (lambda e: reserve_stock(e, uow=i), None),
            "InventoryOnOrderCancelled": (
                lambda e: release_stock(e, uow=i),
                lambda e, error: report_release_failure(e, error, uow=i),
            ),
            "InventoryOnOrderConfirmed": (lambda e: commit_stock(e, uow=i), None),
            "SagaOnSagaEvent": (lambda e: _ignore(project_event(e, sagas=self.sagas, measures=self.measures)), None),
        }

    # --- what the outside does -------------------------------------------------------------------------

    def place(self, lines: dict[str, int], token: str) -> str | None:
        """A customer places an order through the API's logic; None when the API refuses it."""
        body = {"items": [{"productId": p, "quantity": q} for p, q in lines.items()], "payment": {"token": token}}
        try:
            answer = place_order(
                PlaceOrderRequest.model_validate(body),
                customer_id="sim-customer",
                idempotency_key=None,
                uow=self.orders,
                sealer=TOKENS,
                now=self.now,
                deadline_seconds=DEADLINE_SECONDS,
            )
        except Exception as refused:  # an unknown product (price not arrived yet), a total too large
            return f"refused: {type(refused).__name__}"
        order_id = answer.order_id
        order = self.orders.orders.get(order_id)
        assert order is not None
        self.placed[order_id] = Placed(order_id, order.total_amount, dict(lines))
        return order_id

    def cancel(self, order_id: str) -> str:
        """The customer cancels; a final order answers 409."""
        try:
            cancel_on_request(order_id, reason="customer_request", uow=self.orders, now=self.now)
        except OrderAlreadyFinal:
            return "409 already final"
        return "202 cancelled"

    # --- what the cloud does ---------------------------------------------------------------------------

    def outbox(self, service: str) -> list[str]:
        """The keys of a service's unpublished outbox rows, oldest first."""
        return [pk for pk in self.tables[service].items if pk.startswith(OUTBOX_PREFIX)]

    def relay(self, service: str, pk: str, *, crash_before_delete: bool) -> str:
        """Publish one outbox row to the bus, then remove it (unless the relay crashes in between)."""
        row = self.tables[service].items[pk]
        event = {"source": row["source"], "detail-type": row["detailType"], "detail": json.loads(row["detail"])}
        self.bus_log.append(event)
        targets = [name for name, types in self.routes.items() if event["detail-type"] in types]
        for name in targets:
            self.queues[name].messages.append(Message(json.dumps(event)))
        if not crash_before_delete:
            del self.tables[service].items[pk]
        return f"{event['detail-type']} -> {', '.join(targets) or 'nobody'}"

    def deliver(self, queue: Queue, index: int, *, crash: str | None) -> str:
        """Receive one message and run its consumer; `crash` is "before" (the consumer dies before doing
        anything), "after" (it dies after its commit, before the acknowledgement) or None."""
        message = queue.messages[index]
        assert message.visible_at <= self.now, "only a visible message can be received"
        message.receives += 1
        message.visible_at = self.now + VISIBILITY_TIMEOUT
        if crash == "before":
            return "crashed before its work; redelivered later"
        outcome = self._consume(queue.name, message)
        if outcome.startswith("failed") and message.receives >= MAX_RECEIVE_COUNT:
            _remove(queue.messages, message)
            queue.dead.append(message)
            return f"{outcome} for good: dead-lettered"
        if outcome.startswith("failed"):
            return f"{outcome}; redelivered later"
        if crash == "after":
            return f"{outcome}, then crashed before the acknowledgement; redelivered later"
        # By identity: a delivery interleaved with this one may have taken another message of this queue.
        _remove(queue.messages, message)
        return outcome

    def _consume(self, name: str, message: Message) -> str:
        if name == "OrderDeadline":
            try:
                expired = expire_order(json.loads(message.body)["orderId"], uow=self.orders, now=self.now)
            except Exception as error:
                return _failed(error)
            return "expired the order" if expired else "nothing to expire"
        react, give_up = self.reactions[name]
        envelope = parse_any(json.loads(message.body))
        try:
            react(envelope)
        except DuplicateEvent:
            return "duplicate, acknowledged"
        except Exception as error:
            if give_up is not None and message.receives >= MAX_RECEIVE_COUNT:
                give_up(envelope, error)
            return _failed(error)
        return "applied"

    def fire_deadlines(self) -> list[str]:
        """Every schedule now due (and every deadline sent at once) goes to the deadline queue."""
        due = [order_id for order_id, at in self.scheduler.deadlines.items() if at <= self.now]
        for order_id in due:
            del self.scheduler.deadlines[order_id]
        due += self.scheduler.due_now
        self.scheduler.due_now = []
        for order_id in due:
            self.queues["OrderDeadline"].messages.append(Message(json.dumps({"orderId": order_id})))
        return due

    def sweep(self) -> int:
        """The deadline sweeper's run."""
        return expire_overdue_orders(uow=self.orders, now=self.now)

    def redrive(self) -> int:
        """An operator moves every dead-lettered message back to its queue."""
        moved = 0
        for queue in self.queues.values():
            for message in queue.dead:
                queue.messages.append(Message(message.body))
                moved += 1
            queue.dead = []
        return moved

    def before_next_write(self, callback: Callable[[], None] | None) -> None:
        """Run `callback` just before the next write to any table (once): another consumer at work while
        this one has read but not yet written."""
        self._before_write = callback

    def take_before_write(self) -> Callable[[], None] | None:
        """The pending callback, once."""
        callback, self._before_write = self._before_write, None
        return callback

    def advance(self, seconds: float) -> None:
        """Time passes."""
        self.now += timedelta(seconds=seconds)

    # --- what the checker reads ------------------------------------------------------------------------

    def available(self, product_id: str) -> int:
        """Units of a product free to reserve."""
        product = self.inventory.products.get(product_id)
        return product.available if product else 0

    def visible(self, queue: Queue) -> list[int]:
        """The positions of the messages of a queue that can be received now."""
        return [i for i, message in enumerate(queue.messages) if message.visible_at <= self.now]

    def pending_work(self) -> bool:
        """Whether anything is still to be published, delivered or fired."""
        return bool(
            any(self.outbox(s) for s in ("order", "payment", "inventory"))
            or any(q.messages or q.dead for q in self.queues.values())
            or self.scheduler.deadlines
            or self.scheduler.due_now
        )


@dataclass(frozen=True)
class _Interleaving:
    """A table that lets the world run another delivery between a consumer's reads and its next write."""

    inner: Table
    world: World

    @property
    def name(self) -> str:
        """The wrapped table's name."""
        return self.inner.name

    def get(self, key: Key) -> Item | None:
        """Read through."""
        return self.inner.get(key)

    def write(self, writes: Sequence[Write]) -> None:
        """Let the pending interleaved delivery run first, then write."""
        if (callback := self.world.take_before_write()) is not None:
            callback()
        self.inner.write(writes)

    def query(self, index: str, partition: tuple[str, Any], *, below: tuple[str, Any], limit: int) -> list[Item]:
        """Query through."""
        return self.inner.query(index, partition, below=below, limit=limit)

    def remove(self, keys: Sequence[Key]) -> None:
        """Remove through."""
        self.inner.remove(keys)


def position(messages: list[Message], message: Message) -> int | None:
    """Where this very message is (not an equal copy of it), or None once it left."""
    return next((i for i, m in enumerate(messages) if m is message), None)


def _remove(messages: list[Message], message: Message) -> None:
    index = position(messages, message)
    assert index is not None, "a message can only be removed once"
    messages.pop(index)


def _failed(error: Exception) -> str:
    return f"failed ({type(error).__name__})"


def _ignore(_: object) -> None:
    return None


def _routes_from_template() -> dict[str, set[str]]:
    """Each consumer (a `<Consumer>Subscription` of template.yaml) with the detail-types its rule matches."""
    return {
        consumer: set(parameters["EventPattern"]["detail-type"]) for consumer, parameters in subscriptions().items()
    }

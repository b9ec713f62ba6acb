"""The order table: orders (`ORDER#<id>`), requests `POST /orders` accepted (`IDEMPOTENCY#<key>`), the
copy of the catalogue's prices (`PRICE#<productId>`), beside the inbox and outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from order.dal.saga_views import SagaViews
from order.models.catalogue import CataloguePrice
from order.models.errors import IdempotencyKeyTaken, PriceSuperseded
from order.models.order import Order, OrderStatus
from shared.errors import OrderChangedConcurrently
from shared.storage import Item, Key, Put, Update, absent, at_most, below, equals, missing, transition
from shared.storage.dynamodb import read_together
from shared.unit_of_work import Repository, Step, UnitOfWork, repository
from shop_contracts.order import CancellationReason
from shop_contracts.saga import SagaView, saga_key

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
# A sparse index of the orders still pending, by deadline: the deadline sweeper's query.
PENDING_INDEX = "pending-by-deadline"
PENDING = "PENDING"
# The invariant the outcome write's condition enforces, by name (the negative controls switch it off).
ONE_OUTCOME_PER_ORDER = "one_outcome_per_order"


def _order_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}"}


def _idempotency_key(key: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{key}"}


def _price_key(product_id: str) -> dict[str, str]:
    return {"pk": f"PRICE#{product_id}"}


@dataclass(frozen=True)
class AcceptedRequest:
    """What a `POST /orders` with an Idempotency-Key was answered, kept for 24 hours: the hash of its body
    and the order it placed."""

    request_hash: str
    order_id: str


class OrderRepository(Repository):
    """Orders; a PENDING order moves to CONFIRMED or CANCELLED once."""

    def get(self, order_id: str) -> Order | None:
        """The order, or None."""
        item = self.table.get(_order_key(order_id))
        return Order.model_validate(item) if item else None

    def get_with_view(self, order_id: str, views: SagaViews) -> tuple[Order | None, SagaView | None]:
        """The order and its saga's view, read together (one call where the store allows: every client's
        poll of `GET /orders/{id}` reads both)."""
        order, view = read_together([(self.table, _order_key(order_id)), (views.table, saga_key(order_id))])
        return (Order.model_validate(order) if order else None), views.view_of(view)

    def overdue(self, before: datetime, *, limit: int) -> list[str]:
        """The ids of pending orders whose deadline is before `before`, most overdue first."""
        items = self.table.query(
            PENDING_INDEX, ("awaitingDeadline", PENDING), below=("deadlineAt", int(before.timestamp())), limit=limit
        )
        return [str(item["orderId"]) for item in items]

    def add(self, order: Order) -> None:
        """A new order, in the pending index until it ends."""
        self._stage(
            Put(
                {
                    **_order_key(order.order_id),
                    # Paid and reserved are written by their own events, and tested for absence.
                    **order.model_dump(mode="json", by_alias=True, exclude={"payment_id", "reserved"}),
                    "awaitingDeadline": PENDING,
                    "deadlineAt": int(order.deadline.timestamp()),
                },
                condition=absent(),
                conflict=lambda: OrderChangedConcurrently(order.order_id),
            )
        )

    def record_payment(self, order: Order, payment_id: str) -> None:
        """A pending order was paid, and is not reserved yet (else `OrderChangedConcurrently`: the
        reservation came in between, and a retry confirms)."""
        self._stage(
            Update(
                _order_key(order.order_id),
                set={"paymentId": payment_id},
                condition=equals("status", OrderStatus.PENDING.value) & missing("reserved"),
                conflict=lambda: OrderChangedConcurrently(order.order_id),
            )
        )

    def record_reservation(self, order: Order) -> None:
        """A pending order's lines are reserved, and it is not paid yet (else `OrderChangedConcurrently`)."""
        self._stage(
            Update(
                _order_key(order.order_id),
                set={"reserved": True},
                condition=equals("status", OrderStatus.PENDING.value) & missing("paymentId"),
                conflict=lambda: OrderChangedConcurrently(order.order_id),
            )
        )

    def finish(
        self,
        order: Order,
        status: OrderStatus,
        *,
        at: datetime,
        reason: CancellationReason | None = None,
        payment_id: str | None = None,
        cancelled_by: str | None = None,
        cancellation_note: str | None = None,
    ) -> None:
        """A pending order becomes terminal (else `OrderChangedConcurrently`); an operator's cancel is kept with
        who (their IAM principal) and why."""
        extra = {
            name: value
            for name, value in (
                ("paymentId", payment_id),
                ("cancelledBy", cancelled_by),
                ("cancellationNote", cancellation_note),
            )
            if value
        }
        self._stage(
            transition(
                _order_key(order.order_id),
                from_=OrderStatus.PENDING.value,
                to=status.value,
                also={"updatedAt": at.isoformat(), "cancellationReason": reason, **extra},
                remove=("awaitingDeadline",),
                conflict=lambda: OrderChangedConcurrently(order.order_id),
                enforcing=ONE_OUTCOME_PER_ORDER,
            )
        )


class AcceptedRequestRepository(Repository):
    """The requests `POST /orders` accepted under an Idempotency-Key, so a replay gets the same order."""

    def get(self, key: str, *, now: float) -> AcceptedRequest | None:
        """What the key was first accepted with, unless none or expired."""
        return _accepted(self.table.get(_idempotency_key(key)), now)

    def get_with_prices(
        self, key: str | None, product_ids: list[str], *, now: float
    ) -> tuple[AcceptedRequest | None, dict[str, CataloguePrice]]:
        """What `key` was first accepted with (None without a key) and the prices the copy holds for these
        products, read together: one call for each `POST /orders`, a replay's or a new order's."""
        keys = [_price_key(product_id) for product_id in product_ids] + ([_idempotency_key(key)] if key else [])
        items = read_together([(self.table, item_key) for item_key in keys])
        accepted = _accepted(items[-1], now) if key else None
        return accepted, _prices(product_ids, items[: len(product_ids)])

    def remember(self, key: str, accepted: AcceptedRequest, *, now: float) -> None:
        """The order to answer `key` with again (else `IdempotencyKeyTaken` if a live one exists)."""
        item = {
            **_idempotency_key(key),
            "requestHash": accepted.request_hash,
            "orderId": accepted.order_id,
            "expiresAt": int(now) + IDEMPOTENCY_TTL_SECONDS,
        }
        self._stage(
            Put(item, condition=absent() | at_most("expiresAt", int(now)), conflict=lambda: IdempotencyKeyTaken(key))
        )


class PriceRepository(Repository):
    """The order service's copy of the catalogue's prices, newest product version wins."""

    def get(self, product_id: str) -> CataloguePrice | None:
        """The price the copy holds, or None."""
        item = self.table.get(_price_key(product_id))
        return CataloguePrice.model_validate(item) if item else None

    def record(self, price: CataloguePrice) -> None:
        """The price of a newer product version than the copy holds (else `PriceSuperseded`)."""
        self._stage(
            Put(
                {**_price_key(price.product_id), **price.model_dump(mode="json", by_alias=True)},
                condition=absent() | below("version", price.version),
                conflict=lambda: PriceSuperseded(price.product_id),
            )
        )


def _accepted(item: Item | None, now: float) -> AcceptedRequest | None:
    if not item or int(item["expiresAt"]) <= now:
        return None
    # Records written before 2026-12-06 kept the HTTP answer itself; its body names the order.
    order_id = item["orderId"] if "orderId" in item else json.loads(str(item["body"]))["orderId"]
    return AcceptedRequest(request_hash=str(item["requestHash"]), order_id=str(order_id))


def _prices(product_ids: list[str], items: list[Item | None]) -> dict[str, CataloguePrice]:
    return {
        product_id: CataloguePrice.model_validate(item)
        for product_id, item in zip(product_ids, items, strict=True)
        if item is not None
    }


class OrderRepositories:
    """The order service's repositories: on a step they stage writes, on the unit of work they only read."""

    orders = repository(OrderRepository)
    accepted_requests = repository(AcceptedRequestRepository)
    prices = repository(PriceRepository)


class OrderStep(Step, OrderRepositories):
    """A step of the order service."""


class OrderUnitOfWork(UnitOfWork[OrderStep], OrderRepositories):
    """The order service's unit of work on its table."""

    step_type = OrderStep

    def order_record(self, order_id: str) -> Key:
        """The order itself: every reaction to a saga event writes it, so it carries the inbox marks."""
        return _order_key(order_id)

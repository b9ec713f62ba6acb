"""Order logic on fakes: one order per request, replays by key, and a pending order ends exactly once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from order.dal.order_repository import OrderUnitOfWork
from order.logic.finish_order import (
    cancel_on_inventory_failed,
    cancel_on_payment_failed,
    cancel_on_request,
    confirm_or_note_payment,
    confirm_or_note_reservation,
    expire_order,
)
from order.logic.place_order import place_order, request_fingerprint
from order.logic.schedule_deadline import schedule_deadline
from order.logic.sweep_deadlines import expire_overdue_orders
from order.models.errors import (
    DeadlineNotReached,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    OrderAlreadyFinal,
    OrderNotFound,
    TotalMismatch,
    TotalTooLarge,
    UnknownProducts,
)
from order.models.order import OrderStatus, PlaceOrderRequest
from shared.errors import OrderChangedConcurrently, WriteContention
from shared.storage import Write
from shop_contracts.envelope import Envelope
from shop_contracts.inventory import InventoryFailed, InventoryReserved, Shortage
from shop_contracts.order import OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed
from tests.support.builders import catalogue, envelope, lines, published, published_types
from tests.support.fakes import TOKENS, FakeScheduler
from tests.support.memory import InMemoryTable

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
REQUEST = PlaceOrderRequest.model_validate(
    {
        "items": [{"productId": "PROD-001", "quantity": 2}],
        "totalAmount": "2599.98",
        "payment": {"token": "tok_ok"},
    }
)


def place(uow: OrderUnitOfWork, request: PlaceOrderRequest = REQUEST, key: str | None = None) -> str:
    if request is REQUEST and uow.prices.get("PROD-001") is None:
        catalogue(uow, {"PROD-001": "1299.99"})
    answer = place_order(
        request, customer_id="c-1", idempotency_key=key, uow=uow, sealer=TOKENS, now=NOW, deadline_seconds=60
    )
    return answer.order_id


def created_event(uow: OrderUnitOfWork) -> Envelope[Any]:
    [(_, detail)] = [(t, d) for t, d in published(table(uow)) if t == "OrderCreated"][:1]
    return Envelope[OrderCreated].model_validate(detail)


def table(uow: OrderUnitOfWork) -> InMemoryTable:
    assert isinstance(uow.table, InMemoryTable)
    return uow.table


def state(uow: OrderUnitOfWork, order_id: str) -> tuple[OrderStatus, str | None]:
    order = uow.orders.get(order_id)
    assert order is not None
    return order.status, order.cancellation_reason


def reserved(created: Envelope[Any]) -> Envelope[Any]:
    return envelope(
        InventoryReserved(order_id=created.data.order_id, items=lines(("PROD-001", 2))), cause=created.metadata
    )


def declined(created: Envelope[Any]) -> Envelope[Any]:
    return envelope(PaymentFailed(order_id=created.data.order_id, reason="card_declined"), cause=created.metadata)


def short(created: Envelope[Any]) -> Envelope[Any]:
    shortage = Shortage(product_id="PROD-001", requested=2, available=0)
    return envelope(
        InventoryFailed(order_id=created.data.order_id, reason="out_of_stock", shortages=(shortage,)),
        cause=created.metadata,
    )


def test_a_placed_order_is_pending_and_announced_in_one_commit(order_uow: OrderUnitOfWork) -> None:
    catalogue(order_uow, {"PROD-001": "1299.99"})
    commits_before = table(order_uow).commits
    order_id = place(order_uow)

    assert state(order_uow, order_id) == (OrderStatus.PENDING, None)
    created = created_event(order_uow)
    assert created.data.order_id == order_id
    assert created.data.total_amount == Decimal("2599.98")
    assert created.data.deadline == NOW + timedelta(seconds=60)
    assert created.metadata.causation_id is None and created.metadata.correlation_id == order_id
    assert order_uow.orders.get(order_id).created_event_id == created.metadata.event_id  # type: ignore[union-attr]
    assert table(order_uow).commits == commits_before + 1


def placed(uow: OrderUnitOfWork) -> list[OrderCreated]:
    return [Envelope[OrderCreated].model_validate(d).data for t, d in published(table(uow)) if t == "OrderCreated"]


def request(items: list[tuple[str, int]], total: str | None = None) -> PlaceOrderRequest:
    body: dict[str, Any] = {
        "items": [{"productId": product, "quantity": quantity} for product, quantity in items],
        "payment": {"token": "tok_ok"},
    }
    return PlaceOrderRequest.model_validate(body | ({"totalAmount": total} if total else {}))


def test_the_server_prices_each_line_and_the_total_without_a_client_total(order_uow: OrderUnitOfWork) -> None:
    catalogue(order_uow, {"LAPTOP": "1299.99", "MOUSE": "59.90"})

    order_id = place(order_uow, request([("LAPTOP", 2), ("MOUSE", 3)]))

    [created] = placed(order_uow)
    assert [(line.product_id, line.quantity, line.unit_price) for line in created.items] == [
        ("LAPTOP", 2, Decimal("1299.99")),
        ("MOUSE", 3, Decimal("59.90")),
    ]
    assert created.total_amount == Decimal("2779.68")
    stored = order_uow.orders.get(order_id)
    assert stored is not None and stored.total_amount == Decimal("2779.68") and stored.items == created.items


def test_a_client_total_that_is_not_the_current_total_is_refused_with_it(order_uow: OrderUnitOfWork) -> None:
    catalogue(order_uow, {"LAPTOP": "1299.99"})

    with pytest.raises(TotalMismatch) as refused:
        place(order_uow, request([("LAPTOP", 1000)], total="0.01"))

    assert refused.value.total == Decimal("1299990.00")
    assert placed(order_uow) == [] and order_uow.orders.get("x") is None
    place(order_uow, request([("LAPTOP", 1000)], total="1299990.00"))
    assert [created.total_amount for created in placed(order_uow)] == [Decimal("1299990.00")]


def test_an_unknown_product_is_refused_naming_every_such_line(order_uow: OrderUnitOfWork) -> None:
    catalogue(order_uow, {"LAPTOP": "1299.99"})
    before = dict(table(order_uow).items)

    with pytest.raises(UnknownProducts) as refused:
        place(order_uow, request([("NOPE", 1), ("LAPTOP", 1), ("GONE", 2)]))

    assert refused.value.lines == [(0, "NOPE"), (2, "GONE")]
    assert table(order_uow).items == before


def test_a_total_above_what_one_payment_may_be_is_refused(order_uow: OrderUnitOfWork) -> None:
    catalogue(order_uow, {f"P{i}": "9999999.99" for i in range(2)})

    with pytest.raises(TotalTooLarge):
        place(order_uow, request([("P0", 1000), ("P1", 1000)]))
    assert placed(order_uow) == []


def test_a_replay_gets_the_first_answer_even_after_a_price_change(order_uow: OrderUnitOfWork) -> None:
    catalogue(order_uow, {"LAPTOP": "1299.99"})
    first = place(order_uow, request([("LAPTOP", 1)]), key="k")
    catalogue(order_uow, {"LAPTOP": "999.99"})

    assert place(order_uow, request([("LAPTOP", 1)]), key="k") == first
    assert [created.total_amount for created in placed(order_uow)] == [Decimal("1299.99")]


def test_the_same_key_and_body_replay_the_first_answer(order_uow: OrderUnitOfWork) -> None:
    first = place(order_uow, key="k-1")
    again = place(order_uow, REQUEST.model_copy(), key="k-1")

    assert again == first
    assert published_types(table(order_uow)) == ["OrderCreated"]


def test_a_key_kept_in_the_form_before_the_answer_was_a_domain_result_still_replays_its_order(
    order_uow: OrderUnitOfWork,
) -> None:
    # Until 2026-12-06 the record kept the HTTP answer itself; such records live 24 hours past a deploy.
    place(order_uow, key="warm-up")  # prices the catalogue copy
    table(order_uow).items["IDEMPOTENCY#c-1#k-old"] = {
        "pk": "IDEMPOTENCY#c-1#k-old",
        "requestHash": request_fingerprint(REQUEST),
        "status": 201,
        "body": json.dumps({"orderId": "o-placed-before", "status": "PENDING"}),
        "headers": json.dumps({"Location": "/orders/o-placed-before"}),
        "expiresAt": int(NOW.timestamp()) + 3600,
    }

    assert place(order_uow, key="k-old") == "o-placed-before"
    assert published_types(table(order_uow)) == ["OrderCreated"]  # the warm-up's only


def test_the_same_key_with_another_body_is_refused(order_uow: OrderUnitOfWork) -> None:
    place(order_uow, key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        place(order_uow, REQUEST.model_copy(update={"total_amount": Decimal("1.00")}), key="k-1")
    assert len(table(order_uow).keys("ORDER#")) == 1


def test_a_concurrent_request_with_the_same_key_gets_the_winners_answer() -> None:
    class RacedTable(InMemoryTable):
        """Another request with the same key commits between our read and our write."""

        raced = False

        def get(self, key: dict[str, str]) -> dict[str, Any] | None:
            found = super().get(key)
            if key["pk"].startswith("IDEMPOTENCY#") and not self.raced:
                self.raced = True
                self.winner = place(OrderUnitOfWork(self), key="k-1")
            return found

    racing = RacedTable()
    uow = OrderUnitOfWork(racing)

    assert place(uow, key="k-1") == racing.winner
    assert len(racing.keys("ORDER#")) == 1


def test_a_duplicate_in_flight_with_the_same_key_is_told_to_retry_and_writes_nothing() -> None:
    # DynamoDB cancels one of two transactions that write the same key record at once (TransactionConflict).
    class ContendedTable(InMemoryTable):
        def write(self, writes: Sequence[Write]) -> None:
            if any(write.key["pk"].startswith("IDEMPOTENCY#") for write in writes):
                raise WriteContention("transaction on orders cancelled: TransactionConflict")
            super().write(writes)

    contended = ContendedTable()

    with pytest.raises(IdempotencyKeyInFlight):
        place(OrderUnitOfWork(contended), key="k-1")
    assert contended.keys("ORDER#") == contended.keys("OUTBOX#") == contended.keys("IDEMPOTENCY#") == []


def paid(created: Envelope[Any], amount: str = "2599.98") -> Envelope[Any]:
    return envelope(
        PaymentProcessed(
            order_id=created.data.order_id,
            payment_id="pay-1",
            amount=Decimal(amount),
            items=lines(("PROD-001", 2)),
        ),
        cause=created.metadata,
    )


@pytest.mark.parametrize("payment_first", [True, False])
def test_an_order_paid_and_reserved_is_confirmed_once_in_either_order(
    order_uow: OrderUnitOfWork, payment_first: bool
) -> None:
    order_id = place(order_uow)
    created = created_event(order_uow)
    payment, reservation = paid(created), reserved(created)
    steps = [
        lambda: confirm_or_note_payment(payment, uow=order_uow, now=NOW),
        lambda: confirm_or_note_reservation(reservation, uow=order_uow, now=NOW),
    ]

    (steps if payment_first else steps[::-1])[0]()
    assert state(order_uow, order_id) == (OrderStatus.PENDING, None)
    (steps if payment_first else steps[::-1])[1]()
    confirm_or_note_reservation(reservation, uow=order_uow, now=NOW)  # late duplicates change nothing
    confirm_or_note_payment(payment, uow=order_uow, now=NOW)

    assert state(order_uow, order_id) == (OrderStatus.CONFIRMED, None)
    assert published_types(table(order_uow)) == ["OrderCreated", "OrderConfirmed"]
    confirmed = published(table(order_uow))[1][1]
    second = reservation if payment_first else payment
    assert confirmed["metadata"]["causationId"] == second.metadata.event_id


def test_a_payment_and_a_reservation_at_once_still_confirm() -> None:
    class Raced(InMemoryTable):
        """The reservation is noted between the payment's read and its write."""

        def write(self, writes: Any) -> None:
            if not getattr(self, "raced", False) and any("paymentId" in getattr(w, "set", {}) for w in writes):
                self.raced = True
                confirm_or_note_reservation(reserved(created), uow=uow, now=NOW)
            super().write(writes)

    uow = OrderUnitOfWork(Raced(**vars(InMemoryTable.like("OrderTable"))))
    order_id = place(uow)
    created = created_event(uow)

    with pytest.raises(OrderChangedConcurrently):
        confirm_or_note_payment(paid(created), uow=uow, now=NOW)
    confirm_or_note_payment(paid(created), uow=uow, now=NOW)  # the redelivery

    assert state(uow, order_id) == (OrderStatus.CONFIRMED, None)


def test_a_reservation_of_an_unpaid_order_confirms_nothing(order_uow: OrderUnitOfWork) -> None:
    order_id = place(order_uow)

    confirm_or_note_reservation(reserved(created_event(order_uow)), uow=order_uow, now=NOW + timedelta(seconds=1))

    assert state(order_uow, order_id) == (OrderStatus.PENDING, None)
    assert published_types(table(order_uow)) == ["OrderCreated"]


def test_a_reservation_or_payment_that_does_not_match_the_order_is_refused(order_uow: OrderUnitOfWork) -> None:
    order_id = place(order_uow)
    created = created_event(order_uow)
    confirm_or_note_payment(paid(created, amount="0.01"), uow=order_uow, now=NOW)  # not this order's total
    confirm_or_note_payment(paid(created), uow=order_uow, now=NOW)
    other_lines = envelope(InventoryReserved(order_id=order_id, items=lines(("PROD-999", 2))), cause=created.metadata)

    confirm_or_note_reservation(other_lines, uow=order_uow, now=NOW)

    assert state(order_uow, order_id) == (OrderStatus.PENDING, None)
    assert order_uow.orders.get(order_id).payment_id == "pay-1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [(declined, "payment_declined"), (short, "out_of_stock")],
)
def test_a_failure_cancels_a_pending_order_with_its_reason(
    order_uow: OrderUnitOfWork, failure: Any, reason: str
) -> None:
    order_id = place(order_uow)
    created = created_event(order_uow)
    react = cancel_on_payment_failed if failure is declined else cancel_on_inventory_failed

    react(failure(created), uow=order_uow, now=NOW)

    assert state(order_uow, order_id) == (OrderStatus.CANCELLED, reason)
    assert published(table(order_uow))[1][1]["data"] == {"orderId": order_id, "reason": reason}


def test_a_late_event_changes_nothing_once_the_order_ended(order_uow: OrderUnitOfWork) -> None:
    order_id = place(order_uow)
    created = created_event(order_uow)
    cancel_on_payment_failed(declined(created), uow=order_uow, now=NOW)

    confirm_or_note_payment(paid(created), uow=order_uow, now=NOW)
    confirm_or_note_reservation(reserved(created), uow=order_uow, now=NOW)
    cancel_on_inventory_failed(short(created), uow=order_uow, now=NOW)

    assert state(order_uow, order_id) == (OrderStatus.CANCELLED, "payment_declined")
    assert published_types(table(order_uow)) == ["OrderCreated", "OrderCancelled"]


def test_an_event_for_an_unknown_order_is_refused(order_uow: OrderUnitOfWork) -> None:
    stray = envelope(InventoryReserved(order_id="nobody", items=lines(("A", 1))))
    with pytest.raises(OrderNotFound):
        confirm_or_note_reservation(stray, uow=order_uow, now=NOW)


def test_a_customer_cancels_a_pending_order_once(order_uow: OrderUnitOfWork) -> None:
    order_id = place(order_uow)

    cancel_on_request(order_id, reason="customer_request", uow=order_uow, now=NOW)
    with pytest.raises(OrderAlreadyFinal):
        cancel_on_request(order_id, reason="customer_request", uow=order_uow, now=NOW)
    with pytest.raises(OrderNotFound):
        cancel_on_request("nobody", reason="customer_request", uow=order_uow, now=NOW)

    assert state(order_uow, order_id) == (OrderStatus.CANCELLED, "customer_request")
    created, cancelled = (detail for _, detail in published(table(order_uow)))
    assert cancelled["metadata"]["causationId"] == created["metadata"]["eventId"]


def test_a_pending_order_expires_at_its_deadline_not_before(order_uow: OrderUnitOfWork) -> None:
    order_id = place(order_uow)

    with pytest.raises(DeadlineNotReached):
        expire_order(order_id, uow=order_uow, now=NOW + timedelta(seconds=59))
    assert expire_order(order_id, uow=order_uow, now=NOW + timedelta(seconds=60))
    assert not expire_order(order_id, uow=order_uow, now=NOW + timedelta(seconds=61))
    assert not expire_order("nobody", uow=order_uow, now=NOW)

    assert state(order_uow, order_id) == (OrderStatus.CANCELLED, "timeout")


def test_each_order_gets_one_deadline(order_uow: OrderUnitOfWork, scheduler: FakeScheduler) -> None:
    place(order_uow)
    created = created_event(order_uow)

    schedule_deadline(created, scheduler=scheduler, now=NOW)
    schedule_deadline(created, scheduler=scheduler, now=NOW)

    assert scheduler.deadlines == {created.data.order_id: NOW + timedelta(seconds=60)}
    assert scheduler.fired == []


def test_a_deadline_already_due_when_its_event_arrives_fires_at_once(
    order_uow: OrderUnitOfWork, scheduler: FakeScheduler
) -> None:
    place(order_uow)
    created = created_event(order_uow)

    schedule_deadline(created, scheduler=scheduler, now=NOW + timedelta(seconds=90))

    assert scheduler.fired == [created.data.order_id]
    assert scheduler.deadlines == {}


def test_the_sweeper_expires_only_pending_orders_a_minute_past_their_deadline(order_uow: OrderUnitOfWork) -> None:
    missed, ended = place(order_uow), place(order_uow)
    cancel_on_request(ended, reason="customer_request", uow=order_uow, now=NOW)

    assert expire_overdue_orders(uow=order_uow, now=NOW + timedelta(seconds=119)) == 0
    assert expire_overdue_orders(uow=order_uow, now=NOW + timedelta(seconds=121)) == 1

    assert state(order_uow, missed) == (OrderStatus.CANCELLED, "timeout")
    assert state(order_uow, ended) == (OrderStatus.CANCELLED, "customer_request")
    assert expire_overdue_orders(uow=order_uow, now=NOW + timedelta(hours=1)) == 0  # out of the index once ended

"""The outbox relay on moto: publishes its own service's rows, removes them only once accepted, refuses
another service's rows, and the sweeper publishes whatever the stream left behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from shared.errors import EventPublishError
from shared.outbox import outbox_put
from shared.publisher import EventBridgePublisher
from shared.relay import PARK_AFTER_REJECTIONS, SWEEP_AFTER_SECONDS, OutboxRelay, stream_rows
from shared.storage import Item, Put
from shared.storage.dynamodb import DynamoTable
from shop_contracts.order import OrderConfirmed
from shop_contracts.payment import PaymentFailed
from tests.component.conftest import CapturedBus, Tables
from tests.support.builders import envelope


@dataclass
class Parked:
    rows: list[tuple[Item, str]] = field(default_factory=list)

    def __call__(self, row: Item, reason: str) -> None:
        self.rows.append((row, reason))


def relay(tables: Tables, parked: Parked | None = None, publisher: Any = None) -> OutboxRelay:
    return OutboxRelay(
        table=DynamoTable(boto3.client("dynamodb"), tables.order.name),
        publisher=publisher or EventBridgePublisher(boto3.client("events")),
        bus_name="test-bus",
        source="shop.order",
        park=parked or Parked(),
    )


def stream_of(tables: Tables) -> list[dict[str, Any]]:
    """The INSERT records the table's stream carries for what is in it now (moto serves no stream reads)."""
    serializer = TypeSerializer()
    return [
        {"eventName": "INSERT", "dynamodb": {"NewImage": {k: serializer.serialize(v) for k, v in item.items()}}}
        for item in tables.order.items()
    ]


def test_the_relay_publishes_exactly_the_outbox_rows_then_removes_them(tables: Tables, bus: CapturedBus) -> None:
    table = DynamoTable(boto3.client("dynamodb"), tables.order.name)
    sent = [envelope(OrderConfirmed(order_id=f"o-{i}")) for i in range(12)]
    table.write([Put({"pk": "ORDER#o-1", "status": "CONFIRMED"}), *(outbox_put(event) for event in sent)])

    result = relay(tables).relay(stream_rows(stream_of(tables)))

    assert result.published == 12
    received = bus.received()
    assert sorted(e["detail"]["metadata"]["eventId"] for e in received) == sorted(e.metadata.event_id for e in sent)
    assert {e["source"] for e in received} == {"shop.order"}
    assert tables.order.items("OUTBOX#") == []
    assert tables.order.items("ORDER#") != []


def test_a_row_in_another_services_name_is_refused_parked_and_removed(tables: Tables, bus: CapturedBus) -> None:
    table = DynamoTable(boto3.client("dynamodb"), tables.order.name)
    forged = envelope(PaymentFailed(order_id="o-1", reason="forged"))
    table.write([outbox_put(forged)])  # a writer of the order table speaking for payment
    parked = Parked()

    result = relay(tables, parked).relay(stream_rows(stream_of(tables)))

    assert (result.published, len(result.refused)) == (0, 1)
    assert bus.received() == []
    [(row, reason)] = parked.rows
    assert row["source"] == "shop.payment" and "only shop.order" in reason
    assert tables.order.items("OUTBOX#") == []


def test_rows_a_crash_left_behind_are_swept_after_a_minute_with_their_ids(tables: Tables, bus: CapturedBus) -> None:
    table = DynamoTable(boto3.client("dynamodb"), tables.order.name)
    event = envelope(OrderConfirmed(order_id="o-1"))
    table.write([outbox_put(event)])

    class CrashAfterPublish(EventBridgePublisher):
        def put_entries(self, entries: Any) -> int:
            super().put_entries(entries)
            raise TimeoutError("the relay died before removing the rows")

    with pytest.raises(TimeoutError):
        relay(tables, publisher=CrashAfterPublish(boto3.client("events"))).relay(stream_rows(stream_of(tables)))
    [row] = tables.order.items("OUTBOX#")
    now = float(row["outboxAt"])

    assert relay(tables).sweep(now).published == 0  # too young: the stream's job
    assert relay(tables).sweep(now + SWEEP_AFTER_SECONDS + 1).published == 1

    ids = [e["detail"]["metadata"]["eventId"] for e in bus.received()]
    assert ids == [event.metadata.event_id] * 2  # the same event twice: consumers dedupe it
    assert tables.order.items("OUTBOX#") == []


def test_an_outage_of_the_bus_loses_nothing(tables: Tables, bus: CapturedBus) -> None:
    table = DynamoTable(boto3.client("dynamodb"), tables.order.name)
    events = [envelope(OrderConfirmed(order_id=f"o-{i}")) for i in range(3)]
    table.write([outbox_put(event) for event in events])

    class Down:
        def put_entries(self, entries: Any) -> int:
            raise ConnectionError("EventBridge is unreachable")

    for _ in range(3):  # the stream retries, then gives the batch up
        with pytest.raises(ConnectionError):
            relay(tables, publisher=Down()).relay(stream_rows(stream_of(tables)))
    later = max(float(row["outboxAt"]) for row in tables.order.items("OUTBOX#")) + 24 * 3600

    assert relay(tables).sweep(later).published == 3
    assert sorted(e["detail"]["metadata"]["eventId"] for e in bus.received()) == sorted(
        e.metadata.event_id for e in events
    )


def test_the_relay_ignores_everything_but_outbox_inserts() -> None:
    records = [
        {"eventName": "MODIFY", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX#1"}}}},
        {"eventName": "REMOVE", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX#2"}}}},
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "ORDER#1"}}}},
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "INBOX#1"}}}},
    ]
    assert stream_rows(records) == []


def test_the_trace_of_the_committing_step_goes_with_its_event_to_the_bus(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Recording:
        def __init__(self) -> None:
            self.entries: list[dict[str, Any]] = []

        def put_entries(self, entries: Any) -> int:
            self.entries.extend(entries)
            return len(entries)

    header = "Root=1-6751a0c0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", header)  # as Lambda sets it for the committing invocation
    table = DynamoTable(boto3.client("dynamodb"), tables.order.name)
    table.write([outbox_put(envelope(OrderConfirmed(order_id="o-1")))])
    monkeypatch.delenv("_X_AMZN_TRACE_ID")  # the relay runs in an invocation of its own

    recording = Recording()
    relay(tables, publisher=recording).relay(stream_rows(stream_of(tables)))

    [entry] = recording.entries
    assert entry["TraceHeader"] == header


def test_a_row_putevents_keeps_rejecting_moves_back_then_is_parked_and_the_others_go_out(
    tables: Tables, bus: CapturedBus
) -> None:
    table = DynamoTable(boto3.client("dynamodb"), tables.order.name)
    stuck, fine = envelope(OrderConfirmed(order_id="o-stuck")), envelope(OrderConfirmed(order_id="o-fine"))
    table.write([outbox_put(stuck), outbox_put(fine)])

    class RejectsOne(EventBridgePublisher):
        """EventBridge refuses one entry on every attempt (too large, say) and takes the rest."""

        def put_entries(self, entries: Any) -> int:
            keep = [e for e in entries if stuck.metadata.event_id not in e["Detail"]]
            super().put_entries(keep)
            if len(keep) < len(entries):
                index = next(i for i, e in enumerate(entries) if stuck.metadata.event_id in e["Detail"])
                failed = {"ErrorCode": "ValidationException", "ErrorMessage": "Total size of the entries exceeds"}
                raise EventPublishError([failed], {index: "ValidationException: Total size of the entries exceeds"})
            return len(entries)

    parked = Parked()
    rejecting = relay(tables, parked, publisher=RejectsOne(boto3.client("events")))
    committed = int(tables.order.items("OUTBOX#")[0]["outboxAt"])

    first = rejecting.relay(stream_rows(stream_of(tables)))

    assert (first.published, len(first.rejected)) == (1, 1)
    assert [e["detail"]["metadata"]["eventId"] for e in bus.received()] == [fine.metadata.event_id]
    [kept] = tables.order.items("OUTBOX#")
    assert kept["rejections"] == 1 and kept["committedAt"] == committed  # counted, moved to the back, dated
    # The sweeper is not pinned to it: each run moves it behind every other row, until it is parked.
    for _ in range(PARK_AFTER_REJECTIONS - 1):
        assert (
            rejecting.sweep(float(tables.order.items("OUTBOX#")[0]["outboxAt"]) + SWEEP_AFTER_SECONDS + 1).published
            == 0
        )
    [(row, reason)] = parked.rows
    assert row["pk"] == f"OUTBOX#{stuck.metadata.event_id}" and row["rejections"] == PARK_AFTER_REJECTIONS
    assert "rejected this outbox row in 5 runs" in reason and "ValidationException" in reason
    assert tables.order.items("OUTBOX#") == []

"""The projector's handler on moto: every event recorded once, in any order, with the view beside them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.conditions import Key

from saga.dal.saga_repository import SagaRepository
from saga.handlers import on_saga_event, on_watch
from saga.logic.fold import saga_view, seen_event
from shared.errors import SagaChangedConcurrently
from shop_contracts.order import OrderConfirmed
from shop_contracts.saga import ATTENTION_AT_ATTRIBUTE, ATTENTION_ATTRIBUTE, ATTENTION_INDEX
from tests.component.conftest import Tables, dynamodb_calls
from tests.support.builders import envelope, sqs_event
from tests.support.sagas import (
    CANCELLED_OOS,
    CHARGED,
    CONFIRMED,
    CREATED,
    LATE_REFUND,
    REFUND_FAILED,
    REFUNDED,
    RESERVED,
    SHORT,
)


def test_the_handler_is_idempotent_and_commutative(tables: Tables, context: LambdaContext) -> None:
    events = [CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS]
    shuffled = events + events[:3]
    random.Random(7).shuffle(shuffled)

    for event in shuffled:
        response = on_saga_event.lambda_handler(sqs_event(event), context)
        assert response == {"batchItemFailures": []}

    item = tables.saga.item("SAGA#o-1")
    assert item is not None
    assert item["view"] == saga_view([seen_event(event) for event in events]).to_wire()
    assert int(item["version"]) == len(events)


def _attention(tables: Tables, state: str) -> list[tuple[str, str]]:
    """What the sparse index ByAttention holds for `state`, stalest first (as operators' tools read it)."""
    answer = (
        boto3.resource("dynamodb")
        .Table(tables.saga.name)
        .query(IndexName=ATTENTION_INDEX, KeyConditionExpression=Key(ATTENTION_ATTRIBUTE).eq(state))
    )
    return [(str(item["pk"]), str(item[ATTENTION_AT_ATTRIBUTE])) for item in answer["Items"]]


def test_an_open_saga_is_indexed_by_its_deadline_until_it_settles(tables: Tables, context: LambdaContext) -> None:
    on_saga_event.lambda_handler(sqs_event(CHARGED), context)
    # Before its OrderCreated is seen, an open saga sorts by its first event.
    assert _attention(tables, "OPEN") == [("SAGA#o-1", CHARGED.metadata.to_wire()["occurredAt"])]

    on_saga_event.lambda_handler(sqs_event(CREATED), context)
    assert _attention(tables, "OPEN") == [("SAGA#o-1", CREATED.data.to_wire()["deadline"])]

    on_saga_event.lambda_handler(sqs_event(RESERVED, CONFIRMED), context)
    assert _attention(tables, "OPEN") == []
    assert _attention(tables, "FAILED") == []


def test_a_failed_compensation_is_indexed_until_a_redrive_resolves_it(tables: Tables, context: LambdaContext) -> None:
    on_saga_event.lambda_handler(sqs_event(CREATED, CHARGED, SHORT, CANCELLED_OOS, REFUND_FAILED), context)
    assert _attention(tables, "FAILED") == [("SAGA#o-1", REFUND_FAILED.metadata.to_wire()["occurredAt"])]
    assert _attention(tables, "OPEN") == []

    on_saga_event.lambda_handler(sqs_event(LATE_REFUND), context)
    assert _attention(tables, "FAILED") == []


def test_open_sagas_list_stalest_first(tables: Tables, context: LambdaContext) -> None:
    for order_id, deadline in (("late", "2026-11-22T10:09:00+00:00"), ("early", "2026-11-22T10:01:00+00:00")):
        created = CREATED.data.model_copy(update={"order_id": order_id, "deadline": datetime.fromisoformat(deadline)})
        on_saga_event.lambda_handler(sqs_event(envelope(created, order_id=order_id)), context)

    assert [pk for pk, _ in _attention(tables, "OPEN")] == ["SAGA#early", "SAGA#late"]


def emf(out: str) -> dict[str, list[Any]]:
    """Metric name -> values, from the EMF lines a function printed."""
    found: dict[str, list[Any]] = {}
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "shop"
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                values = blob[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(values if isinstance(values, list) else [values])
                dims = [d for d in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0] if d != "service"]
                found.setdefault(f"{metric['Name']}.by", []).extend(blob[d] for d in dims)
    return found


def test_the_projector_writes_business_metrics_once_per_saga(
    tables: Tables, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    on_saga_event.lambda_handler(sqs_event(CREATED, CHARGED, SHORT, CANCELLED_OOS, CANCELLED_OOS), context)

    metrics = emf(capsys.readouterr().out)
    assert metrics["OrdersPlaced"] == [1.0]
    assert metrics["OrdersCancelled"] == [1.0] and metrics["OrdersCancelled.by"] == ["out_of_stock"]
    assert metrics["SagaDuration"] == [4.0] and metrics["SagaDuration.by"] == ["CANCELLED"]
    assert len(metrics["ConsumerLag"]) == 5  # one per delivery processed


def test_the_watch_counts_stuck_and_failed_sagas_for_the_alarms(
    tables: Tables, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    def created(order_id: str, deadline: datetime) -> Any:
        data = CREATED.data.model_copy(update={"order_id": order_id, "deadline": deadline})
        return envelope(data, order_id=order_id)

    now = datetime.now(UTC)
    stuck = created("stuck", now - timedelta(minutes=6))
    waiting = created("waiting", now - timedelta(minutes=1))  # past its deadline, within the slack
    on_saga_event.lambda_handler(
        sqs_event(stuck, waiting, CREATED, CHARGED, SHORT, CANCELLED_OOS, REFUND_FAILED), context
    )
    capsys.readouterr()

    assert on_watch.lambda_handler({}, context) == {"stuck": 1, "failed": 1}
    metrics = emf(capsys.readouterr().out)
    assert (metrics["StuckSagas"], metrics["FailedSagas"]) == ([1.0], [1.0])


def test_a_batch_is_projected_saga_by_saga_and_a_failing_saga_fails_alone(
    tables: Tables, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = envelope(OrderConfirmed(order_id="o-2"))
    batch = sqs_event(CREATED, other, CHARGED, RESERVED, CONFIRMED)

    response = on_saga_event.lambda_handler(batch, context)

    assert response == {"batchItemFailures": []}
    first, second = tables.saga.item("SAGA#o-1"), tables.saga.item("SAGA#o-2")
    assert first is not None and second is not None
    # One write per saga: four events of o-1, one of o-2.
    assert (int(first["version"]), len(first["view"]["timeline"]), int(second["version"])) == (1, 4, 1)
    assert first["view"]["status"] == "COMPLETED"

    # A saga whose write keeps failing: only its records come back, the other saga's are projected.
    real_save = SagaRepository.save

    def save(self: SagaRepository, saga_id: str, *args: Any, **kwargs: Any) -> None:
        if saga_id == "o-3":
            raise SagaChangedConcurrently(saga_id)
        real_save(self, saga_id, *args, **kwargs)

    monkeypatch.setattr(SagaRepository, "save", save)
    stuck = [envelope(OrderConfirmed(order_id="o-3")), envelope(OrderConfirmed(order_id="o-4"))]
    response = on_saga_event.lambda_handler(sqs_event(stuck[0], stuck[1], stuck[0]), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-2"}]}
    assert tables.saga.item("SAGA#o-3") is None
    assert tables.saga.item("SAGA#o-4") is not None


def test_a_batch_reads_its_sagas_in_one_call(tables: Tables, context: LambdaContext) -> None:
    others = [envelope(OrderConfirmed(order_id=order_id)) for order_id in ("o-2", "o-3")]
    on_saga_event.lambda_handler(sqs_event(CREATED), context)

    with dynamodb_calls() as calls:
        response = on_saga_event.lambda_handler(sqs_event(CHARGED, *others, RESERVED), context)

    assert response == {"batchItemFailures": []}
    # One read for the three sagas (one of them seen before), then one write each.
    assert calls == ["BatchGetItem", "PutItem", "PutItem", "PutItem"]
    first = tables.saga.item("SAGA#o-1")
    assert first is not None and int(first["version"]) == 2 and len(first["view"]["timeline"]) == 3

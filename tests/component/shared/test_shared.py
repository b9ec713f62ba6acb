"""The shared layer: money on the wire, the envelope, the publisher and the outbox relay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shared.consumer import RACE_ATTEMPTS, consume
from shared.errors import EventPublishError, MalformedEvent, OrderChangedConcurrently
from shared.publisher import EventBridgePublisher
from shop_contracts.base import LineItem, PositiveMoney, WireModel
from shop_contracts.order import OrderConfirmed
from shop_contracts.payment import PaymentFailed
from shop_contracts.registry import parse_any
from tests.support.builders import envelope, eventbridge, sqs_event


class Price(WireModel):
    amount: PositiveMoney


@pytest.mark.parametrize("good", ["0.01", "12.50", "2599.98"])
def test_money_is_a_two_place_string(good: str) -> None:
    price = Price.model_validate({"amount": good})
    assert price.amount == Decimal(good)
    assert price.to_wire() == {"amount": good}


@pytest.mark.parametrize("bad", [12.5, 12, "12.5", "12", "-1.00", "0.00", "1e3", None])
def test_anything_else_is_not_money(bad: Any) -> None:
    with pytest.raises(ValidationError):
        Price.model_validate({"amount": bad})


def test_quantity_must_be_a_json_integer() -> None:
    with pytest.raises(ValidationError):
        LineItem.model_validate({"productId": "A", "quantity": "2"})


def test_an_envelope_round_trips_through_eventbridge_form() -> None:
    sent = envelope(OrderConfirmed(order_id="o-1"))
    received = parse_any(json.loads(json.dumps(eventbridge(sent))))
    assert received == sent


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "not a JSON object"),
        ({"detail-type": "Nope", "source": "shop.order", "detail": {}}, "unknown detail-type"),
        ({"detail-type": "OrderConfirmed", "source": "shop.payment", "detail": {}}, "may not come from"),
        (
            {"detail-type": "OrderConfirmed", "source": "shop.order", "detail": {"metadata": {}, "data": {}}},
            "metadata.correlationId",
        ),
    ],
)
def test_a_malformed_event_says_what_is_wrong(raw: Any, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        parse_any(raw)


class FlakyEvents:
    """PutEvents that rejects the first entry of each call `failures` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if self.failures:
            self.failures -= 1
            results = [{"ErrorCode": "InternalFailure"}] + [{"EventId": "x"}] * (len(Entries) - 1)
            return {"FailedEntryCount": 1, "Entries": results}
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"}] * len(Entries)}


def test_rejected_entries_are_sent_again_alone() -> None:
    client = FlakyEvents(failures=2)
    entries = [{"Detail": str(i)} for i in range(3)]

    EventBridgePublisher(client, backoff_seconds=0).put_entries(entries)  # type: ignore[arg-type]

    assert [len(call) for call in client.calls] == [3, 1, 1]
    assert client.calls[1] == [entries[0]]


def test_entries_still_rejected_after_every_attempt_are_named_by_their_position() -> None:
    entries = [{"Detail": str(n)} for n in range(12)]  # two calls: entries 0 and 10 lead each, and fail
    with pytest.raises(EventPublishError) as still:
        EventBridgePublisher(FlakyEvents(failures=99), backoff_seconds=0).put_entries(entries)  # type: ignore[arg-type]
    assert still.value.rejected == {0: "InternalFailure", 10: "InternalFailure"}


def test_batches_are_at_most_ten_entries() -> None:
    client = FlakyEvents(failures=0)
    EventBridgePublisher(client).put_entries([{"Detail": str(i)} for i in range(23)])  # type: ignore[arg-type]
    assert [len(call) for call in client.calls] == [10, 10, 3]


def _imports_after(module: str, **environment: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing `module` in this environment."""
    code = f"import sys, {module}; print(' '.join(sorted({{name.split('.')[0] for name in sys.modules}})))"
    env = {
        key: value for key, value in os.environ.items() if key not in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED")
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env={**env, **environment}, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_the_x_ray_sdk_is_imported_only_where_traces_are_collected() -> None:
    # The local cloud disables tracing, and tests run outside Lambda: no SDK (a third of a cold start).
    assert "aws_xray_sdk" not in _imports_after(
        "shared.observability", LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="true"
    )
    assert "aws_xray_sdk" not in _imports_after("shared.observability")
    # In Lambda with tracing on (AWS), Powertools' Tracer records each AWS call as a subsegment.
    assert "aws_xray_sdk" in _imports_after("shared.observability", LAMBDA_TASK_ROOT="/var/task")


def test_no_function_imports_boto3() -> None:
    # botocore's clients are all the functions use: boto3 would add its resource layer and s3transfer,
    # concurrent.futures and multiprocessing to every cold start (docs/decisions.md, "Cold starts").
    for handler in (
        "order.handlers.api",
        "payment.handlers.on_order_created",
        "saga.handlers.on_saga_event",
        "shared.relay",
    ):
        loaded = _imports_after(handler)
        assert not {"boto3", "s3transfer", "multiprocessing"} & loaded, handler


def test_a_consumer_imports_no_batch_utility_and_no_asyncio() -> None:
    # A cold start's import is its latency: Powertools' batch utility costs about 80 ms (asyncio and every
    # event source's data class) for a loop shared.consumer writes itself (docs/decisions.md, "Cold starts").
    loaded = _imports_after("order.handlers.on_payment_failed")
    assert "asyncio" not in loaded
    assert "cryptography" not in loaded  # only the order API seals payment tokens
    done = subprocess.run(
        [sys.executable, "-c", "import sys, order.handlers.on_deadline; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "aws_lambda_powertools.utilities.batch" not in done.stdout
    assert "aws_lambda_powertools.utilities.data_classes" not in done.stdout


def test_no_model_is_declared_with_postponed_annotations() -> None:
    # `from __future__ import annotations` makes every field's type a string that pydantic evaluates when the
    # class is made: collecting a consumer's model fields took 30 ms with it, 12 without (docs/decisions.md,
    # "models without postponed annotations").
    code = """
import __future__, sys
import order.handlers.api, order.handlers.on_deadline, payment.handlers.on_order_created
import inventory.handlers.api, saga.handlers.on_saga_event, shared.relay
import payment.handlers.on_refund_dead_lettered, inventory.handlers.on_release_dead_lettered
from pydantic import BaseModel
def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)
ours = {model.__module__ for model in every(BaseModel) if model.__module__.split(".")[0] in sys.argv[1:]}
print(len(ours), *sorted(m for m in ours if getattr(sys.modules[m], "annotations", None) is __future__.annotations))
"""
    owners = ("shop_contracts", "shared", "order", "payment", "inventory", "saga")
    done = subprocess.run([sys.executable, "-c", code, *owners], capture_output=True, text=True, check=True)
    modules, *postponed = done.stdout.split()
    assert int(modules) >= 20
    # Their generic functions' `Envelope[EventT]` would each make a model at import.
    assert postponed == ["shared.dead_letters", "shop_contracts.envelope"]


def test_every_aws_client_gives_up_on_a_stalled_call_well_inside_the_function_timeout(tables: Any) -> None:
    from shared import aws
    from tools.template import template

    function_timeout = template()["Globals"]["Function"]["Timeout"]
    clients = [aws.dynamodb(), aws.events(), aws.kms(), aws.sqs(), aws.scheduler()]
    for client in clients:
        config = client.meta.config
        assert config.connect_timeout + config.read_timeout < function_timeout, client.meta.service_model.service_name
        assert config.retries["mode"] == "standard", client.meta.service_model.service_name


def _racing(*outcomes: Exception | None) -> tuple[list[str], Any]:
    """A reaction that raises each of `outcomes` in turn (None: it applies), and the runs it had."""
    runs: list[str] = []

    def react(_: Any) -> None:
        runs.append("run")
        outcome = outcomes[len(runs) - 1]
        if outcome is not None:
            raise outcome

    return runs, react


def test_a_reaction_that_lost_a_race_runs_again_at_once_until_it_applies(context: Any) -> None:
    event = sqs_event(envelope(PaymentFailed(order_id="o-1", reason="card_declined")))
    lost = OrderChangedConcurrently("o-1")
    runs, react = _racing(lost, lost, None)

    assert consume(event, context, expected=PaymentFailed, react=react) == {"batchItemFailures": []}
    assert len(runs) == 3


def test_a_reaction_that_keeps_losing_goes_back_to_its_queue_after_every_attempt(context: Any) -> None:
    event = sqs_event(envelope(PaymentFailed(order_id="o-1", reason="card_declined")))
    runs, react = _racing(*[OrderChangedConcurrently("o-1")] * RACE_ATTEMPTS)

    assert consume(event, context, expected=PaymentFailed, react=react) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}]
    }
    assert len(runs) == RACE_ATTEMPTS


def test_any_other_failure_goes_back_to_its_queue_without_a_second_run(context: Any) -> None:
    event = sqs_event(envelope(PaymentFailed(order_id="o-1", reason="card_declined")))
    runs, react = _racing(RuntimeError("the gateway did not answer"), None)

    assert consume(event, context, expected=PaymentFailed, react=react) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}]
    }
    assert len(runs) == 1


def test_the_last_delivery_reports_a_lost_race_only_once_every_run_has_lost(tables: Any, context: Any) -> None:
    event = sqs_event(envelope(PaymentFailed(order_id="o-1", reason="card_declined")), receive_count=3)
    lost = OrderChangedConcurrently("o-1")
    runs, react = _racing(*[lost] * RACE_ATTEMPTS)
    reported: list[tuple[int, Exception]] = []

    response = consume(
        event,
        context,
        expected=PaymentFailed,
        react=react,
        give_up=lambda _, error: reported.append((len(runs), error)),
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert reported == [(RACE_ATTEMPTS, lost)]  # after the last run, not after the first loss

"""shopctl's commands on moto, through typer's runner: what an operator sees and what each command changes."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from typer.testing import CliRunner

from saga.handlers import on_saga_event
from shopctl import app as shopctl
from shopctl import shop as shop_module
from shopctl.redrive import Redrive
from tests.component.conftest import CapturedBus, Tables
from tests.support.builders import envelope, sqs_event
from tests.support.sagas import CANCELLED_OOS, CHARGED, CREATED, REFUND_FAILED, SHORT

runner = CliRunner()


@pytest.fixture
def cli(tables: Tables, bus: CapturedBus, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """shopctl pointed at the moto stack of the component tests."""
    outputs = {"OrderTableName": tables.order.name, "SagaTableName": tables.saga.name, "EventBusName": "test-bus"}
    monkeypatch.setattr(shop_module, "stack_outputs", lambda stack: outputs)
    monkeypatch.setattr(shop_module, "use_cloud", lambda **_: "moto")
    monkeypatch.setattr(shopctl, "use_cloud", lambda **_: "moto")
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="payment-on-order-created")["QueueUrl"]
    dead = sqs.create_queue(QueueName="payment-on-order-created-dlq")["QueueUrl"]
    targets = [Redrive("PaymentOnOrderCreated", dead, queue)]
    monkeypatch.setattr(shop_module, "redrives_of_stack", lambda stack: targets)
    relay_dlq = sqs.create_queue(QueueName="relay-dlq")["QueueUrl"]
    queues = {"PaymentOnOrderCreatedQueue": queue, "PaymentOnOrderCreatedDeadLetterQueue": dead}
    monkeypatch.setattr(shop_module, "stack_queues", lambda stack: {**queues, "RelayDeadLetterQueue": relay_dlq})

    def run(*args: str) -> Any:
        return runner.invoke(shopctl.app, ["--stack", "moto-stack", *args])

    run.queue, run.dead = queue, dead  # type: ignore[attr-defined]
    yield run


def test_order_show_prints_the_order_its_steps_and_its_timeline(
    cli: Any, tables: Tables, context: LambdaContext
) -> None:
    tables.order._table.put_item(
        Item={"pk": "ORDER#o-1", "status": "CANCELLED", "cancellationReason": "out_of_stock", "totalAmount": "5.00"}
    )
    on_saga_event.lambda_handler(sqs_event(CREATED, CHARGED, SHORT, CANCELLED_OOS), context)

    shown = cli("order", "show", "o-1")
    as_json = json.loads(cli("order", "show", "o-1", "--json").stdout)

    assert shown.exit_code == 0, shown.stdout
    for text in ("CANCELLED", "out_of_stock", "InventoryFailed", "OrderCancelled", "COMPENSATING"):
        assert text in shown.stdout
    assert as_json["saga"]["status"] == "COMPENSATING"
    assert [e["type"] for e in as_json["saga"]["timeline"]][-1] == "OrderCancelled"
    missing = cli("order", "show", "nope")
    assert missing.exit_code == 1 and "no order nope" in missing.stderr


def test_sagas_stuck_and_failed_list_from_the_index_stalest_first(
    cli: Any, tables: Tables, context: LambdaContext
) -> None:
    now = datetime.now(UTC)
    for order_id, late in (("later", 6), ("earlier", 30), ("on-time", -10)):
        created = CREATED.data.model_copy(update={"order_id": order_id, "deadline": now - timedelta(minutes=late)})
        on_saga_event.lambda_handler(sqs_event(envelope(created, order_id=order_id)), context)
    on_saga_event.lambda_handler(sqs_event(CREATED, CHARGED, SHORT, CANCELLED_OOS, REFUND_FAILED), context)

    stuck = json.loads(cli("sagas", "stuck", "--json").stdout)
    failed = json.loads(cli("sagas", "failed", "--json").stdout)
    table = cli("sagas", "stuck").stdout

    assert [row["orderId"] for row in stuck] == ["earlier", "later"]
    assert [(row["orderId"], row["status"]) for row in failed] == [("o-1", "COMPENSATION_FAILED")]
    assert "compensation_failed" in failed[0]["failureReason"]
    assert "stuck sagas (2)" in table and table.index("earlier") < table.index("later")


def _park(cli: Any, reason: str, order_id: str) -> None:
    body = json.dumps({"detail-type": "OrderCreated", "detail": {"data": {"orderId": order_id}}})
    boto3.client("sqs").send_message(
        QueueUrl=cli.dead,
        MessageBody=body,
        MessageAttributes={"FailureReason": {"DataType": "String", "StringValue": reason}},
    )


def test_dlq_list_and_show_give_depth_and_each_message_with_its_reason(cli: Any) -> None:
    _park(cli, "OrderCreated detail is invalid: metadata: Field required", "o-9")

    listed = json.loads(cli("dlq", "list", "--json").stdout)
    shown = json.loads(cli("dlq", "show", "PaymentOnOrderCreated", "--json").stdout)

    assert listed == [
        {"consumer": "PaymentOnOrderCreated", "waiting": 1, "redrivable": True},
        {"consumer": "Relay", "waiting": 0, "redrivable": False},
    ]
    [message] = shown
    assert (message["reason"], message["detail_type"], message["order_id"]) == (
        "OrderCreated detail is invalid: metadata: Field required",
        "OrderCreated",
        "o-9",
    )
    assert json.loads(cli("dlq", "list", "--json").stdout)[0]["waiting"] == 1  # still there, visible again
    assert "not redrivable" in cli("dlq", "list").stdout  # the relays' queue, said why
    unknown = cli("dlq", "show", "Nobody")
    assert unknown.exit_code == 1 and "PaymentOnOrderCreated" in unknown.stderr  # names the consumers it has


def test_dlq_redrive_moves_a_time_window_and_a_dry_run_moves_nothing(cli: Any) -> None:
    for index in range(3):
        _park(cli, "timed out", f"o-{index}")
    sqs = boto3.client("sqs")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    dry = json.loads(cli("dlq", "redrive", "--dry-run", "--json").stdout)
    outside = json.loads(cli("dlq", "redrive", "--since", future, "--json").stdout)
    time.sleep(0.1)
    moved = json.loads(cli("dlq", "redrive", "PaymentOnOrderCreated", "--until", future, "--json").stdout)

    assert dry["dryRun"] is True and dry["moved"] == {"PaymentOnOrderCreated": 3}
    assert dry["window"]["field"] == "SentTimestamp"
    assert outside["moved"] == {"PaymentOnOrderCreated": 0}
    assert outside["consumers"]["PaymentOnOrderCreated"] == {
        "examined": 3, "moved": 0, "outsideWindow": 3, "arrivedDuringScan": 0, "heldElsewhere": 0
    }  # fmt: skip
    assert moved["moved"] == {"PaymentOnOrderCreated": 3}
    back = sqs.receive_message(QueueUrl=cli.queue, MaxNumberOfMessages=10)["Messages"]
    assert len(back) == 3
    assert sqs.receive_message(QueueUrl=cli.dead, MaxNumberOfMessages=10).get("Messages", []) == []
    bad = cli("dlq", "redrive", "--since", "yesterday")
    assert bad.exit_code == 1 and "not an ISO 8601 time" in bad.stderr


def test_bus_tail_prints_live_events_and_removes_its_subscription(cli: Any) -> None:
    events = boto3.client("events")
    rules_before = {r["Name"] for r in events.list_rules(EventBusName="test-bus")["Rules"]}
    detail = envelope(CHARGED.data, order_id="o-7").to_wire()

    def publish_soon() -> None:
        # Once the tail's subscription exists (moto's bus is not safe to change while it publishes).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(0.05)
            with contextlib.suppress(RuntimeError):  # read while the tail was changing it: look again
                if {r["Name"] for r in events.list_rules(EventBusName="test-bus")["Rules"]} - rules_before:
                    break
        # The type the tail skips first. moto delivers while it walks the bus's rules, and the tail removes its
        # rule as soon as it has its one event: that may end moto's walk early (after the delivery).
        with contextlib.suppress(RuntimeError):
            events.put_events(
                Entries=[
                    {
                        "EventBusName": "test-bus",
                        "Source": "shop.payment",
                        "DetailType": t,
                        "Detail": json.dumps(detail),
                    }
                    for t in ("PaymentFailed", "PaymentProcessed")
                ]
            )

    import threading

    publisher = threading.Thread(target=publish_soon)
    publisher.start()
    tailed = cli("bus", "tail", "--type", "PaymentProcessed", "--count", "1", "--seconds", "20", "--json")

    publisher.join()
    assert tailed.exit_code == 0, tailed.stdout
    [line] = tailed.stdout.strip().splitlines()
    assert json.loads(line)["detail-type"] == "PaymentProcessed"  # only the type asked for
    assert {r["Name"] for r in events.list_rules(EventBusName="test-bus")["Rules"]} == rules_before
    assert not [q for q in boto3.client("sqs").list_queues().get("QueueUrls", []) if "shopctl-tail" in q]


def test_a_cloud_that_is_not_running_is_one_line_that_says_what_to_do_not_a_traceback() -> None:
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    answer = subprocess.run(
        [sys.executable, "-m", "shopctl.app", "--endpoint", f"http://127.0.0.1:{port}", "sagas", "stuck"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_MAX_ATTEMPTS": "1", "COLUMNS": "200"},
        check=False,
    )
    assert answer.returncode == 2, answer.stderr
    assert "Traceback" not in answer.stderr
    [line] = answer.stderr.strip().splitlines()
    assert f"cannot reach the local cloud at http://127.0.0.1:{port}" in line and "make up" in line


def test_a_stack_that_is_not_deployed_is_named_with_what_to_do() -> None:
    from botocore.exceptions import ClientError

    shopctl.STATE.update(where="the local cloud at http://127.0.0.1:4566", shop=shop_module.Shop("nope"))
    missing = ClientError(
        {"Error": {"Code": "ValidationError", "Message": "Stack with id nope does not exist"}}, "DescribeStacks"
    )
    assert shopctl.unreachable(missing) == (
        "no stack nope on the local cloud at http://127.0.0.1:4566: deploy it (`make up`), or name yours with --stack"
    )
    other = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem")
    assert shopctl.unreachable(other) == ""


def test_a_watched_order_says_what_its_saga_waits_for_how_long_it_has_run_and_its_deadline() -> None:
    placed = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    order = {"status": "PENDING", "createdAt": "2026-12-06T10:00:00Z", "deadline": "2026-12-06T10:05:00Z"}
    now = placed + timedelta(seconds=75)
    assert shopctl.timing(order, now) == {"since placed": "1m15s", "deadline": "2026-12-06T10:05:00+00:00, in 3m45s"}
    late = shopctl.timing(order, placed + timedelta(minutes=5, seconds=3))
    assert late["deadline"].endswith("passed 3s ago (the order is cancelled as timeout)")
    assert "deadline" not in shopctl.timing({**order, "status": "CONFIRMED"}, now)

    assert shopctl.waiting_for(order, None).startswith("the payment service to charge")
    charged = {"steps": [{"name": "payment", "status": "CHARGED"}]}
    assert shopctl.waiting_for(order, charged).startswith("the inventory service to reserve stock")
    cancelled = {**order, "status": "CANCELLED"}
    both = {"steps": [{"name": "payment", "status": "CHARGED"}, {"name": "inventory", "status": "RESERVED"}]}
    undoing = "the refund (PaymentRefunded), the release of stock (InventoryReleased)"
    assert shopctl.waiting_for(cancelled, both) == undoing
    assert shopctl.waiting_for({**order, "status": "CONFIRMED"}, both) == "-"


def test_a_refusal_is_rendered_as_what_was_wrong_and_each_field_not_dumped() -> None:
    body = {
        "title": "Bad Request",
        "status": 400,
        "detail": "2 field(s) are invalid: name, price",
        "errors": [{"field": "name", "message": "too short"}, {"field": "price", "message": "two decimals"}],
    }
    assert shopctl.refusal(400, body) == (
        "400 Bad Request: 2 field(s) are invalid: name, price\n  name: too short\n  price: two decimals"
    )
    assert shopctl.refusal(403, {"message": "Forbidden"}) == "403: Forbidden"

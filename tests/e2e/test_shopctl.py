"""shopctl against the stack on the local cloud: an order placed and watched to its end, a poison event shown
with its reason and redriven, a live event tailed from the bus, the catalogue, the outbox sweep."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from shopctl import app as shopctl
from shopctl.stack import ApiClient
from tests.e2e.conftest import Principal, calling_as, wait_for
from tests.e2e.saga import place

runner = CliRunner()
Shopctl = Callable[..., Any]


@pytest.fixture
def shopctl_run(operator_principal: Principal) -> Shopctl:
    """shopctl as an operator (an IAM user with the stack's OperatorPolicy alone), or `as_admin`."""

    def run(*args: str, as_admin: bool = False) -> Any:
        target = ["--endpoint", os.environ["AWS_ENDPOINT_URL"], "--stack", os.environ["AWS_SAM_STACK_NAME"]]
        if as_admin:
            return runner.invoke(shopctl.app, [*target, *args])
        with calling_as(operator_principal):
            return runner.invoke(shopctl.app, [*target, *args])

    return run


def test_order_place_watches_the_saga_to_its_end(new_product: Callable[..., str], shopctl_run: Shopctl) -> None:
    product = new_product(5, "12.50")

    # Placing an order signs a customer up through the pool's admin flow: an administrator's command.
    placed = shopctl_run("order", "place", f"{product}:2", "--timeout", "90", as_admin=True)

    assert placed.exit_code == 0, placed.stdout + placed.stderr
    order_id = placed.stdout.split("placed order ")[1].split()[0]
    shown = json.loads(shopctl_run("order", "show", order_id, "--json").stdout)
    assert shown["order"]["status"] == "CONFIRMED" and shown["order"]["totalAmount"] == "25.00"

    # The operator reads what the payment consumer logged of this order, from its service's log group.
    def charged() -> list[dict[str, Any]] | None:
        lines = shopctl_run("logs", "PaymentOnOrderCreatedFunction", "--since", "30m", "--contains", order_id, "--json")
        assert lines.exit_code == 0, lines.stdout + lines.stderr
        found = json.loads(lines.stdout)
        return found if any(line["message"] == "order charged" for line in found) else None

    [line] = [line for line in wait_for(charged, what="the charge in the logs") if line["message"] == "order charged"]
    assert line["correlation_id"] == order_id and line["level"] == "INFO"
    assert shown["saga"]["status"] == "COMPLETED"
    assert "OrderConfirmed" in placed.stdout  # the live view ended on the whole timeline


def test_a_poison_event_is_shown_with_its_reason_then_redriven(outputs: dict[str, str], shopctl_run: Shopctl) -> None:
    poison = uuid.uuid4().hex
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": outputs["EventBusName"],
                "Source": "shop.order",
                "DetailType": "OrderCreated",
                "Detail": json.dumps({"metadata": {"eventId": poison}, "data": {"orderId": poison}}),
            }
        ]
    )

    def shown() -> dict[str, Any] | None:
        messages = json.loads(shopctl_run("dlq", "show", "PaymentOnOrderCreated", "--json", "--limit", "50").stdout)
        return next((m for m in messages if m["order_id"] == poison), None)

    message = wait_for(shown, timeout=60, what="the poison event in shopctl dlq show")
    assert message["reason"].startswith("OrderCreated detail is invalid")
    listed = {row["consumer"]: row["waiting"] for row in json.loads(shopctl_run("dlq", "list", "--json").stdout)}
    assert listed["PaymentOnOrderCreated"] >= 1
    counted = json.loads(shopctl_run("dlq", "redrive", "PaymentOnOrderCreated", "--dry-run", "--json").stdout)
    waiting = counted["moved"]["PaymentOnOrderCreated"]
    assert waiting >= 1

    redriven = json.loads(shopctl_run("dlq", "redrive", "PaymentOnOrderCreated", "--json").stdout)

    # Every message counted was moved (a loaded emulator may park a copy more in between, never fewer).
    assert redriven["dryRun"] is False and redriven["moved"]["PaymentOnOrderCreated"] >= waiting
    # Malformed still: the consumer parks it again at once, with its reason.
    wait_for(shown, timeout=60, what="the redriven poison parked again")


def test_bus_tail_prints_a_live_event(api: ApiClient, new_product: Callable[..., str], shopctl_run: Shopctl) -> None:
    product = new_product(5)
    placed: list[str] = []

    def place_soon() -> None:
        time.sleep(3)  # once the temporary subscription exists
        placed.append(place(api, [(product, 1)], "10.00"))

    threading.Thread(target=place_soon).start()
    tailed = shopctl_run("bus", "tail", "--type", "OrderCreated", "--count", "1", "--seconds", "60", "--json")

    assert tailed.exit_code == 0, tailed.stdout
    events = [json.loads(line) for line in tailed.stdout.strip().splitlines()]
    assert any(e["detail"]["data"]["orderId"] in placed for e in events)
    assert {e["detail-type"] for e in events} == {"OrderCreated"}


def test_the_catalogue_through_shopctl(shopctl_run: Shopctl) -> None:
    product = f"CTL-{uuid.uuid4().hex[:8]}"

    created = shopctl_run(
        "products", "set", product, "--name", "Dock", "--price", "99.00", "--available", "3", "--json"
    )
    restocked = shopctl_run("products", "restock", product, "--quantity", "4", "--json")
    shown = shopctl_run("products", "show", product, "--json")

    assert json.loads(created.stdout)["available"] == 3
    assert json.loads(restocked.stdout)["available"] == 7
    assert json.loads(shown.stdout) | {"productId": product} == json.loads(shown.stdout)
    # Set again over the stock: read, then written only if unchanged since (If-Match); announce the price again.
    assert json.loads(shopctl_run("products", "set", product, "--name", "Dock", "--price", "99.00", "--available",
                                  "5", "--json").stdout)["available"] == 5  # fmt: skip
    assert shopctl_run("products", "announce", product).exit_code == 0
    refused = shopctl_run("products", "set", product, "--name", "Dock", "--price", "99", "--available", "3")
    assert refused.exit_code == 1 and "price" in refused.stderr


def test_outbox_republish_runs_every_relay_sweep(shopctl_run: Shopctl) -> None:
    published = json.loads(shopctl_run("outbox", "republish", "--older-than", "0", "--json").stdout)
    assert set(published) == {"order", "payment", "inventory"}
    assert all(count >= 0 for count in published.values())


def test_sagas_stuck_lists_an_order_whose_deadline_handling_is_down(
    api: ApiClient, outputs: dict[str, str], new_product: Callable[..., str], shopctl_run: Shopctl
) -> None:
    # The deadline handler and the sweeper are down (the test stack's fault seams): nothing expires the order.
    plan = boto3.resource("dynamodb").Table(outputs["TestSeamsTableName"])
    plan.put_item(Item={"pk": "FAULTS", "plan": {"outages": {"OrderDeadline": 600, "OrderDeadlineSweep": 600}}})
    try:
        order_id = place(api, [(new_product(5), 1)], "10.00", token="tok_pending")

        def listed() -> list[dict[str, Any]] | None:
            rows = json.loads(shopctl_run("sagas", "stuck", "--slack", "0", "--json").stdout)
            return [row for row in rows if row["orderId"] == order_id] or None

        [row] = wait_for(listed, timeout=150, every=2, what="the order past its deadline in shopctl sagas stuck")
        assert row["status"] in {"STARTED", "PAYMENT_PROCESSED"}  # open: payment still pending
        assert "stuck sagas" in shopctl_run("sagas", "stuck", "--slack", "0").stdout
    finally:
        plan.delete_item(Key={"pk": "FAULTS"})
    # Once the handlers are back the sweeper expires it, and it leaves the list.
    wait_for(lambda: None if listed() else True, timeout=150, every=3, what="the order expired and unlisted")
    assert api.call("GET", f"/orders/{order_id}").body["cancellationReason"] == "timeout"


def test_saga_cancel_cancels_an_in_flight_order_and_it_is_compensated(
    api: ApiClient, new_product: Callable[..., str], shopctl_run: Shopctl
) -> None:
    product = new_product(5)
    order_id = place(api, [(product, 2)], "20.00", token="tok_pending")  # payment never completes

    cancelled = shopctl_run("saga", "cancel", order_id, "--timeout", "90")

    assert cancelled.exit_code == 0, cancelled.stdout + cancelled.stderr
    shown = json.loads(shopctl_run("order", "show", order_id, "--json").stdout)
    assert (shown["order"]["status"], shown["order"]["cancellationReason"]) == ("CANCELLED", "customer_request")
    assert shown["saga"]["status"] == "CANCELLED"
    assert api.call("GET", f"/products/{product}").body["available"] == 5  # nothing held
    again = shopctl_run("saga", "cancel", order_id)
    assert again.exit_code == 1 and "already final" in again.stderr

"""Place orders down every path of the saga on the deployed stack and show how each one ended.

    python -m tools.dev.demo --stack shop-saga      (the end of `make demo`)

Paths: confirmed, payment declined, out of stock, a multi-line order with one line short, a customer
cancel, a refund the gateway refuses (COMPENSATION_FAILED) and an order that times out at its deadline
(about a minute on the local cloud). Prints a table of outcomes and, per path, the saga's timeline.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from shopctl.stack import ApiClient, api_base_url, customer_token, stack_outputs, wait_until_priced
from tools.dev.seed import SAMPLE_PRODUCTS, seed

SETTLED = {"COMPLETED", "CANCELLED", "COMPENSATION_FAILED"}
# The demo's customer in the stack's user pool (created on first use; local cloud only).
DEMO_CUSTOMER = "demo@shop.example"
DEMO_PASSWORD = "Demo-Passw0rd-2026"


@dataclass
class Scenario:
    """One saga path: the order to place, whether the customer cancels it, and what should happen."""

    path: str
    items: list[dict[str, Any]]
    total: str
    token: str = "tok_ok"
    customer_cancels: bool = False
    expected: str = "CONFIRMED"
    order_id: str = ""
    final: dict[str, Any] = field(default_factory=dict)


SCENARIOS = [
    Scenario("confirmed", [{"productId": "PROD-002", "quantity": 2}], "399.98"),
    Scenario(
        "payment declined", [{"productId": "PROD-003", "quantity": 1}], "799.99", "tok_decline", expected="CANCELLED"
    ),
    Scenario("out of stock", [{"productId": "PROD-010", "quantity": 5}], "2995.00", expected="CANCELLED"),
    Scenario(
        "one line short",
        [{"productId": "PROD-001", "quantity": 1}, {"productId": "PROD-010", "quantity": 3}],
        "3096.99",
        expected="CANCELLED",
    ),
    Scenario(
        "customer cancel",
        [{"productId": "PROD-004", "quantity": 1}],
        "449.00",
        customer_cancels=True,
        expected="CANCELLED",
    ),
    Scenario(
        "refund refused", [{"productId": "PROD-010", "quantity": 9}], "5391.00", "tok_refund_fail", expected="CANCELLED"
    ),
    Scenario("timeout", [{"productId": "PROD-005", "quantity": 1}], "129.50", "tok_pending", expected="CANCELLED"),
]


def show_server_pricing(api: ApiClient) -> None:
    """A customer cannot set their own price: a wrong total is refused with the real one."""
    body = {"items": [{"productId": "PROD-001", "quantity": 1}], "totalAmount": "0.01", "payment": {"token": "tok_ok"}}
    refused = api.call("POST", "/orders", body)
    print(
        f"an order of PROD-001 sent with totalAmount 0.01 -> {refused.status}, "
        f"the current total is {refused.body.get('totalAmount')} (nothing placed)"
    )
    if refused.status != 409:
        raise RuntimeError(f"a customer-set price was not refused: {refused.status} {refused.body}")


def place(api: ApiClient, scenario: Scenario) -> None:
    """Place the scenario's order (and cancel it at once if the customer does)."""
    body = {
        "items": scenario.items,
        "totalAmount": scenario.total,
        "payment": {"token": scenario.token},
    }
    result = api.call("POST", "/orders", body, headers={"Idempotency-Key": str(uuid.uuid4())})
    if result.status != 201:
        raise RuntimeError(f"POST /orders for {scenario.path!r} answered {result.status}: {result.body}")
    scenario.order_id = result.body["orderId"]
    if scenario.customer_cancels:
        cancel = api.call("POST", f"/orders/{scenario.order_id}/cancel")
        if cancel.status != 202:
            print(f"  note: cancel of {scenario.order_id} answered {cancel.status}: {cancel.body}")


def wait_until_settled(api: ApiClient, scenarios: list[Scenario], timeout: float) -> None:
    """Poll every order until it and its saga are final, printing progress."""
    deadline = time.monotonic() + timeout
    pending = list(scenarios)
    while pending and time.monotonic() < deadline:
        for scenario in list(pending):
            order = api.call("GET", f"/orders/{scenario.order_id}").body
            saga = order.get("saga") or {}
            if order.get("status") != "PENDING" and saga.get("status") in SETTLED:
                scenario.final = order
                pending.remove(scenario)
        if pending:
            print(f"  waiting for {len(pending)} saga(s) to settle: {', '.join(s.path for s in pending)}", flush=True)
            time.sleep(5)
    for scenario in pending:
        scenario.final = api.call("GET", f"/orders/{scenario.order_id}").body


def report(scenarios: list[Scenario], stock: dict[str, int]) -> bool:
    """Print the outcome table and each saga's timeline; True when every path ended as expected."""
    header = f"{'path':<18} {'order':<10} {'status':<10} {'reason':<18} {'saga':<20} {'ok':<3}"
    print("\n" + header + "\n" + "-" * len(header))
    all_ok = True
    for s in scenarios:
        saga = s.final.get("saga") or {}
        ok = s.final.get("status") == s.expected and saga.get("status") in SETTLED
        all_ok &= ok
        print(
            f"{s.path:<18} {s.order_id[:8]:<10} {s.final.get('status', '?'):<10} "
            f"{s.final.get('cancellationReason') or '-':<18} {saga.get('status', '-'):<20} {'yes' if ok else 'NO':<3}"
        )
    for s in scenarios:
        saga = s.final.get("saga") or {}
        print(f"\n{s.path} ({s.order_id}): saga {saga.get('status')}, failure reason {saga.get('failureReason')}")
        for event in saga.get("timeline", []):
            print(f"  {event['occurredAt']}  {event['type']}")
    print("\nstock after the demo: " + ", ".join(f"{pid} {available}" for pid, available in stock.items()))
    return all_ok


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for every saga to settle")
    args = parser.parse_args(argv)
    outputs = stack_outputs(args.stack)
    anonymous = ApiClient(api_base_url(outputs))
    seed(anonymous)
    waited = wait_until_priced(args.stack, {str(p["productId"]): str(p["price"]) for p in SAMPLE_PRODUCTS})
    print(f"catalogue seeded; the order service had every price {waited:.1f}s later (it prices orders from them)")
    api = anonymous.as_customer(customer_token(outputs, DEMO_CUSTOMER, DEMO_PASSWORD))
    show_server_pricing(api)
    print(f"placing {len(SCENARIOS)} orders, one per saga path ...")
    started = time.monotonic()
    for scenario in SCENARIOS:
        place(api, scenario)
    wait_until_settled(api, SCENARIOS, args.timeout)
    touched = sorted({item["productId"] for s in SCENARIOS for item in s.items})
    stock = {pid: api.call("GET", f"/products/{pid}").body["available"] for pid in touched}
    ok = report(SCENARIOS, stock)
    print(
        f"\nall {len(SCENARIOS)} sagas settled in {time.monotonic() - started:.1f}s"
        if ok
        else "\nsome paths did not end as expected"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fuzz the deployed API from its OpenAPI document (schemathesis): every route, valid and invalid
requests, each sent once with the right credentials and once without.

    python -m tests.support.fuzz --stack shop-saga-e2e --examples 100      (make fuzz)

Checks every response: never a 5xx; its status, content type and body as the document says. And state:
orders appear only for the 201s of `POST /orders`, and a product changes only through an operator's
2xx, so no rejected request changed anything. Prints the figures; exit status 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, openapi
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from shopctl.stack import api_base_url, customer_token, sign, stack_outputs
from tools.codegen import openapi as document

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzReport:
    """What the fuzzer sent and what it found."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    # Distinct orders the 201s named (a replay under the same Idempotency-Key names the first one again).
    orders_placed: set[str] = field(default_factory=set)
    # Products an accepted request may have changed: written by an operator, or named by an order.
    products_touched: set[str] = field(default_factory=set)
    seconds: float = 0.0

    def render(self) -> str:
        statuses = ", ".join(f"{status} x{n}" for status, n in sorted(self.statuses.items()))
        lines = [
            f"fuzz: {self.requests} requests over {len(self.routes)} routes in {self.seconds:.0f}s",
            f"  statuses: {statuses}",
            f"  5xx: {sum(n for s, n in self.statuses.items() if s >= 500)}, findings: {len(self.findings)}",
        ]
        lines += [f"  - {finding}" for finding in self.findings[:20]]
        return "\n".join(lines)


class Fuzzer:
    """Sends the generated requests as the right caller, and checks each answer against the document."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.session = requests.Session()
        self.report = FuzzReport()

    def run(self, examples: int) -> FuzzReport:
        started = time.monotonic()
        schema = openapi.from_path(str(document.DOCUMENT))
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                raise RuntimeError(f"docs/openapi.json has an operation schemathesis cannot read: {result}")
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self._fuzz(operation, mode, examples)
        self.report.seconds = time.monotonic() - started
        return self.report

    def _fuzz(self, operation: Any, mode: GenerationMode, examples: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case: Any) -> None:
            self._send(case, with_credentials=True)
            self._send(case, with_credentials=False)

        send()

    def _send(self, case: Any, *, with_credentials: bool) -> None:
        route = f"{case.operation.method.upper()} {case.operation.path}"
        security = case.operation.definition.raw.get("security") or []
        caller = next(iter(security[0]), None) if security else None
        kwargs = case.as_transport_kwargs(base_url=self.base_url)
        headers = {k: v for k, v in kwargs.pop("headers", {}).items() if k.lower() != "authorization"}
        body = kwargs.pop("json", None)
        data = json.dumps(body).encode() if body is not None else kwargs.pop("data", None)
        if isinstance(data, str):
            data = data.encode()
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        request = requests.Request(kwargs.pop("method"), kwargs.pop("url"), headers=headers, data=data, **kwargs)
        prepared = self.session.prepare_request(request)
        if with_credentials and caller == "customer":
            prepared.headers["Authorization"] = f"Bearer {self.token}"
        if with_credentials and caller == "operator":
            signed = sign(prepared.method or "GET", prepared.url or "", prepared.body, dict(prepared.headers))  # type: ignore[arg-type]
            prepared.headers.update(signed)
        response = self.session.send(prepared, timeout=60)
        self.report.requests += 1
        self.report.statuses[response.status_code] += 1
        self.report.routes[route] += 1
        if route == "POST /orders" and response.status_code == 201:
            self.report.orders_placed.add(response.json()["orderId"])
            self.report.products_touched |= {str(line.get("productId")) for line in body.get("items", [])}
        if caller == "operator" and response.ok:
            self.report.products_touched.add(str(case.path_parameters.get("productId")))
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as finding:  # schemathesis raises one error naming every failed check
            summary = str(finding).strip().splitlines()[0][:200]
            self.report.findings.append(f"{route} -> {response.status_code}: {summary}")


def _orders(table: str) -> int:
    client = boto3.client("dynamodb")
    total, kwargs = 0, {}  # type: tuple[int, dict[str, Any]]
    while True:
        page = client.scan(
            TableName=table,
            Select="COUNT",
            FilterExpression="begins_with(pk, :p)",
            ExpressionAttributeValues={":p": {"S": "ORDER#"}},
            **kwargs,
        )
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _products(table: str) -> dict[str, Any]:
    client = boto3.resource("dynamodb").Table(table)
    found: dict[str, Any] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            if str(item["pk"]).startswith("PRODUCT#"):
                found[str(item["pk"]).removeprefix("PRODUCT#")] = item
        if "LastEvaluatedKey" not in page:
            return found
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def fuzz_stack(stack: str, *, examples: int) -> FuzzReport:
    """Fuzz the deployed stack and check that only accepted requests changed state."""
    outputs = stack_outputs(stack)
    token = customer_token(outputs, f"fuzz-{uuid.uuid4().hex[:8]}@e2e.example", "Fuzz-Passw0rd-long")
    orders_before, products_before = _orders(outputs["OrderTableName"]), _products(outputs["InventoryTableName"])
    report = Fuzzer(api_base_url(outputs), token).run(examples)
    orders_after, products_after = _orders(outputs["OrderTableName"]), _products(outputs["InventoryTableName"])
    if orders_after - orders_before != len(report.orders_placed):
        report.findings.append(
            f"state: {orders_after - orders_before} orders appeared, but POST /orders accepted "
            f"{len(report.orders_placed)} distinct orders"
        )
    for product_id in set(products_before) | set(products_after):
        changed = products_before.get(product_id) != products_after.get(product_id)
        if changed and product_id not in report.products_touched:
            report.findings.append(f"state: product {product_id} changed without an accepted operator write")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga-e2e")
    parser.add_argument("--examples", type=int, default=100, help="generated cases per route and mode")
    args = parser.parse_args(argv)
    report = fuzz_stack(args.stack, examples=args.examples)
    print(report.render())
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""What `make local-invoke` needs that Docker does not: every sample has a function and a documented result,
the samples name what the seed creates, the env-vars file is complete, and the forwarder carries bytes."""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path
from typing import Any

from tools.codegen import sample_events
from tools.dev import local_invoke, seed
from tools.dev.env_vars import env_vars
from tools.template import resources_of_type

EVENTS = Path(sample_events.EVENTS)
FUNCTIONS = set(resources_of_type("AWS::Serverless::Function"))


def test_every_sample_a_function_receives_goes_to_a_function_of_the_template_with_a_documented_result() -> None:
    invocations = local_invoke.sample_invocations()
    invoked = {invocation.sample for invocation in invocations}
    kinds = ("api", "sqs", "stream")
    receivable = {str(path.relative_to(EVENTS)) for kind in kinds for path in (EVENTS / kind).glob("*")}
    assert invoked == receivable
    assert {invocation.function for invocation in invocations} <= FUNCTIONS
    for invocation in invocations:
        if invocation.sample.startswith("api/"):
            assert invocation.status is not None, invocation
    # Each event sample reaches every consumer subscribed to it (OrderCreated: payment, order, projector).
    order_created = {i.function for i in invocations if i.sample == "sqs/OrderCreated.json"}
    assert order_created == {"PaymentOnOrderCreatedFunction", "OrderOnOrderCreatedFunction", "SagaOnSagaEventFunction"}


def test_the_readme_of_events_documents_what_each_sample_returns() -> None:
    readme = (EVENTS / "README.md").read_text()
    for invocation in local_invoke.sample_invocations():
        row = f"| `{invocation.sample}` | `{invocation.function}` | {invocation.expected()} |"
        assert row in readme, f"events/README.md has no row {row}"


def _named(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in EVENTS.rglob("*.json"):
        # Bodies and details are JSON inside JSON: read the text with its escapes undone.
        found |= set(re.findall(pattern, path.read_text().replace('\\"', '"')))
    return found


def test_the_samples_name_only_the_order_and_products_the_seed_creates() -> None:
    orders = _named(r'"orderId": ?"([^"]+)"') | _named(r"/orders/([0-9a-f-]{36})")
    assert orders == {sample_events.ORDER_ID}
    products = _named(r'"productId": ?"([^"]+)"') | _named(r"/products/(PROD-[0-9]+)")
    assert products <= {str(product["productId"]) for product in seed.SAMPLE_PRODUCTS}


def test_the_sample_order_belongs_to_the_customer_the_api_samples_sign_in_as() -> None:
    get_order = json.loads((EVENTS / "api" / "GetOrder.json").read_text())
    customer = get_order["requestContext"]["authorizer"]["claims"]["sub"]
    created = json.loads((EVENTS / "order" / "OrderCreated.json").read_text())
    assert created["detail"]["data"]["customerId"] == customer == sample_events.SAMPLE_CUSTOMER


def test_the_product_sample_sets_what_the_seed_set_so_it_needs_no_if_match_on_a_seeded_stack() -> None:
    put = json.loads((EVENTS / "api" / "PutProduct.json").read_text())
    [seeded] = [p for p in seed.SAMPLE_PRODUCTS if p["productId"] == put["pathParameters"]["productId"]]
    assert json.loads(put["body"]) == {key: value for key, value in seeded.items() if key != "productId"}


class _Stack:
    """A deployed stack's two functions, as CloudFormation and Lambda describe them."""

    def get_paginator(self, _: str) -> Any:
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        resources = [("OrderApiFunction", "AWS::Lambda::Function"), ("OrderTable", "AWS::DynamoDB::Table")]
        return [
            {"StackResourceSummaries": [{"LogicalResourceId": n, "PhysicalResourceId": f"p-{n}", "ResourceType": t}]}
            for n, t in resources
        ]

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        return {"Environment": {"Variables": {"ORDER_TABLE_NAME": "orders-1", "FUNCTION": FunctionName}}}


def test_the_env_vars_file_points_every_function_at_the_local_stack() -> None:
    stack = _Stack()
    found = env_vars("shop", stack, stack, endpoint="http://host.docker.internal:4566")
    assert found == {
        "OrderApiFunction": {
            "ORDER_TABLE_NAME": "orders-1",
            "FUNCTION": "p-OrderApiFunction",
            "AWS_ENDPOINT_URL": "http://host.docker.internal:4566",
        }
    }
    assert "AWS_ENDPOINT_URL" not in env_vars("shop", stack, stack)["OrderApiFunction"]


def test_the_forwarder_carries_a_containers_connection_to_the_local_cloud_on_loopback() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def echo() -> None:
        connection, _ = server.accept()
        with connection:
            connection.sendall(connection.recv(1024).upper())

    threading.Thread(target=echo, daemon=True).start()
    # 127.0.0.2 stands in for the bridge's gateway: another address of this machine, same port.
    with local_invoke.forwarded("127.0.0.2", port), socket.create_connection(("127.0.0.2", port), timeout=5) as client:
        client.sendall(b"hello")
        assert client.recv(1024) == b"HELLO"
    server.close()


def test_a_result_matches_only_what_its_sample_documents() -> None:
    api = local_invoke.Invocation("OrderApiFunction", "api/GetOrder.json", 200)
    assert local_invoke.matches(api, {"statusCode": 200, "body": "{}"})
    assert not local_invoke.matches(api, {"statusCode": 404})
    assert not local_invoke.matches(api, "Runtime.ImportModuleError")
    batch = local_invoke.Invocation("OrderOnPaymentFailedFunction", "sqs/PaymentFailed.json")
    assert local_invoke.matches(batch, {"batchItemFailures": []})
    assert not local_invoke.matches(batch, {"batchItemFailures": [{"itemIdentifier": "m-1"}]})

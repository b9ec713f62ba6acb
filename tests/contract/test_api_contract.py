"""The front door as deployed: who may call each route (in the transformed template, on both clouds),
and the OpenAPI document, generated from the code, matching the routes the template deploys."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tools.codegen import openapi

ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = ROOT / ".venvs" / "sam" / "bin" / "python"
CUSTOMER_ROUTES = {("post", "/orders"), ("get", "/orders/{orderId}"), ("post", "/orders/{orderId}/cancel")}
OPERATOR_ROUTES = {
    ("put", "/products/{productId}"),
    ("post", "/products/{productId}/restock"),
    ("post", "/operator/orders/{orderId}/cancel"),
}
PUBLIC_ROUTES = {("get", "/products/{productId}")}


@cache
def transformed(local: str) -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.fail("the SAM CLI environment is missing: run `make setup`")
    done = subprocess.run(
        [str(SAM_PYTHON), "-m", "tests.support.transform", f"Local={local}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def routes(local: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    [api] = [r for r in transformed(local)["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    return {
        (method, path): operation.get("security", [])
        for path, operations in api["Properties"]["Body"]["paths"].items()
        for method, operation in operations.items()
    }


@pytest.mark.parametrize("local", ["false", "true"])
def test_every_route_but_the_catalogues_get_has_an_authorizer(local: str) -> None:
    security = routes(local)

    assert set(security) == CUSTOMER_ROUTES | OPERATOR_ROUTES | PUBLIC_ROUTES
    for route in CUSTOMER_ROUTES:
        assert security[route] == [{"CustomerAuthorizer": []}], route
    for route in OPERATOR_ROUTES:
        assert security[route] == [{"AWS_IAM": []}], route
    for route in PUBLIC_ROUTES:
        assert security[route] == [{"NONE": []}], route


@pytest.mark.parametrize("local", ["false", "true"])
def test_customers_are_checked_against_the_stacks_user_pool(local: str) -> None:
    [api] = [r for r in transformed(local)["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    scheme = api["Properties"]["Body"]["components"]["securitySchemes"]["CustomerAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "cognito_user_pools"
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]


def test_the_openapi_document_is_generated_from_the_code() -> None:
    assert openapi.main(["--check"]) == 0


def test_the_document_describes_exactly_the_deployed_routes_with_their_callers() -> None:
    document = json.loads(openapi.DOCUMENT.read_text())
    described = {
        (method, path): operation.get("security")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    assert set(described) == set(routes("false"))
    for route in CUSTOMER_ROUTES:
        assert described[route] == [{"customer": []}]
    for route in OPERATOR_ROUTES:
        assert described[route] == [{"operator": []}]
    for route in PUBLIC_ROUTES:
        assert described[route] is None

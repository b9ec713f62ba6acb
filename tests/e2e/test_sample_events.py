"""The API samples in events/ invoked on the deployed stack (what `sam remote invoke` does), and the env-vars
file for `sam local invoke` read from it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3

from shopctl.stack import stack_outputs
from tools.dev.env_vars import env_vars

EVENTS = Path(__file__).resolve().parent.parent.parent / "events"


def invoke(function: str, sample: str) -> dict[str, Any]:
    stack = os.environ["AWS_SAM_STACK_NAME"]
    physical = boto3.client("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=function)
    answer = boto3.client("lambda").invoke(
        FunctionName=physical["StackResourceDetail"]["PhysicalResourceId"], Payload=(EVENTS / sample).read_bytes()
    )
    return json.loads(answer["Payload"].read())  # type: ignore[no-any-return]


def test_the_catalogue_samples_work_on_a_fresh_stack() -> None:
    put = invoke("InventoryApiFunction", "api/PutProduct.json")
    assert put["statusCode"] == 200, put
    got = invoke("InventoryApiFunction", "api/GetProduct.json")
    assert got["statusCode"] == 200 and json.loads(got["body"])["productId"] == "PROD-001", got


def test_the_rejected_order_sample_says_what_is_wrong() -> None:
    answer = invoke("OrderApiFunction", "api/PlaceOrder.invalid.json")
    assert answer["statusCode"] == 400, answer
    fields = {error["field"] for error in json.loads(answer["body"])["errors"]}
    assert fields == {"items[0].quantity", "totalAmount", "payment", "customerId"}


def test_the_env_vars_file_names_the_stacks_own_tables() -> None:
    stack = os.environ["AWS_SAM_STACK_NAME"]
    outputs = stack_outputs(stack)
    found = env_vars(stack)
    assert found["OrderApiFunction"]["ORDER_TABLE_NAME"] == outputs["OrderTableName"]
    assert found["PaymentOnOrderCreatedFunction"]["PAYMENT_TABLE_NAME"] == outputs["PaymentTableName"]
    assert found["SagaOnSagaEventFunction"]["SAGA_TABLE_NAME"] == outputs["SagaTableName"]

"""End-to-end fixtures: the stack deployed on the local cloud, its API, and a listener on its bus.

The local cloud enforces IAM as AWS does (tools/dev/e2e starts it with --auth): the functions call as their
own roles, an operator signs as an IAM user that holds the stack's OperatorPolicy and nothing else, and the
tests use the account's administrator credentials only where they reach behind the API (reading a table,
putting an event on the bus as a forger would, planning faults).

The listener subscribes its own queue to the bus with its own rule, exactly as a new consumer would,
and records every saga event it sees by saga id.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest
from botocore.credentials import Credentials

from shopctl.stack import ApiClient, api_base_url, customer_token, stack_outputs, wait_until_priced
from tests.support.bus import BusSubscriber


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


def wait_for[T](
    check: Callable[[], T | None], *, timeout: float = 60, every: float = 0.5, what: str = "condition"
) -> T:
    """Poll `check` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := check()) is not None:
            return result
        time.sleep(every)
    raise AssertionError(f"{what} not met within {timeout}s")


# The listener subscribes its own queue to the bus with its own rule, exactly as a new consumer would.
BusListener = BusSubscriber


@pytest.fixture(scope="session")
def outputs() -> dict[str, str]:
    name = os.environ.get("AWS_SAM_STACK_NAME")
    if not name:
        pytest.fail("AWS_SAM_STACK_NAME is not set: run the end-to-end tests with `make e2e`")
    return stack_outputs(name)


PASSWORD = "E2e-Passw0rd-long"


@pytest.fixture(scope="session")
def anonymous(outputs: dict[str, str]) -> ApiClient:
    """The API with no credentials at all."""
    return ApiClient(api_base_url(outputs))


@pytest.fixture(scope="session")
def api(outputs: dict[str, str], anonymous: ApiClient) -> ApiClient:
    """The API as customer A, signed in to the stack's user pool."""
    return anonymous.as_customer(customer_token(outputs, f"a-{uuid.uuid4().hex[:8]}@e2e.example", PASSWORD))


@pytest.fixture(scope="session")
def other_customer(outputs: dict[str, str], anonymous: ApiClient) -> ApiClient:
    """The API as customer B."""
    return anonymous.as_customer(customer_token(outputs, f"b-{uuid.uuid4().hex[:8]}@e2e.example", PASSWORD))


@dataclass(frozen=True)
class Principal:
    """An IAM user of the local cloud, with its own access key."""

    name: str
    credentials: Credentials

    def session(self) -> boto3.Session:
        """A boto3 session that calls as this user."""
        return boto3.Session(
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            region_name="us-east-1",
        )


def iam_user(name: str, *policy_arns: str) -> Principal:
    """A new IAM user holding exactly these managed policies (made as the account's administrator)."""
    iam = boto3.client("iam")
    iam.create_user(UserName=name)
    for arn in policy_arns:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Principal(name, Credentials(key["AccessKeyId"], key["SecretAccessKey"]))


@contextlib.contextmanager
def calling_as(principal: Principal) -> Iterator[None]:
    """Every boto3 client made meanwhile through the default session (shopctl's) calls as `principal`."""
    previous = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = principal.session()
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = previous


@pytest.fixture(scope="session")
def operator_principal(outputs: dict[str, str]) -> Principal:
    """An operator: an IAM user holding the stack's OperatorPolicy and nothing else."""
    return iam_user(f"e2e-operator-{uuid.uuid4().hex[:8]}", outputs["OperatorPolicyArn"])


@pytest.fixture(scope="session")
def operator(anonymous: ApiClient, operator_principal: Principal) -> ApiClient:
    """The API as an operator: every request SigV4-signed as the operator's IAM user."""
    return anonymous.as_operator(operator_principal.credentials)


@pytest.fixture(scope="session")
def bus(outputs: dict[str, str]) -> Iterator[BusListener]:
    listener = BusListener(outputs["EventBusName"], prefix="e2e-listener")
    yield listener
    listener.close()


@pytest.fixture
def new_product(operator: ApiClient) -> Callable[..., str]:
    """Create products of our own."""
    return lambda available, price="10.00": create_product(operator, available, price)


def create_product(operator: ApiClient, available: int, price: str = "10.00") -> str:
    """A product of our own, so no other test can touch its stock; returned once the order service's
    catalogue copy has its price, so that orders of it can be placed."""
    product_id = f"E2E-{uuid.uuid4().hex[:10]}"
    body = {"name": product_id, "price": price, "available": available}
    result = operator.call("PUT", f"/products/{product_id}", body)
    assert result.status == 200, result.body
    wait_until_priced(os.environ["AWS_SAM_STACK_NAME"], {product_id: price})
    return product_id


@pytest.fixture(scope="session", autouse=True)
def stalled_order(api: ApiClient, operator: ApiClient, bus: BusListener) -> tuple[str, str]:
    """An order whose payment never completes, placed first so that its deadline runs out while the
    other tests run (test_timeout checks it last): (order id, product id)."""
    product = create_product(operator, 5)
    body = {
        "items": [{"productId": product, "quantity": 1}],
        "totalAmount": "10.00",
        "payment": {"token": "tok_pending"},
    }
    result = api.call("POST", "/orders", body)
    assert result.status == 201, result.body
    return str(result.body["orderId"]), product

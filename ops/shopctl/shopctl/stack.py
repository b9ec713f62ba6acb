"""What the deployed stack shows the outside (its outputs), a small JSON client for its REST API, and
the two ways to call it: as a signed-in customer (a user-pool ID token) or as an operator (SigV4).

shopctl's stack client; the workshop (seed, demo, stack info, the benchmark) and the end-to-end tests use it too.
Talks to whatever AWS_ENDPOINT_URL names.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class HttpResult:
    """One API response: status, headers and the decoded JSON body (None when empty)."""

    status: int
    headers: dict[str, str]
    body: Any


def stack_outputs(stack_name: str) -> dict[str, str]:
    """The stack's outputs by key."""
    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


# A use of the consumer building block (blocks/consumer.yaml) is a nested stack named <Consumer>Subscription.
SUBSCRIPTION_SUFFIX = "Subscription"


def stack_queues(stack_name: str, cloudformation: Any = None) -> dict[str, str]:
    """Every SQS queue of the stack by logical id, as URL; a subscription's queues are named as if they
    were the stack's own, `<Consumer>Queue` and `<Consumer>DeadLetterQueue`."""
    cloudformation = cloudformation or boto3.client("cloudformation")
    found: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            logical_id = summary["LogicalResourceId"]
            if summary["ResourceType"] == "AWS::SQS::Queue":
                found[logical_id] = summary["PhysicalResourceId"]
            elif summary["ResourceType"] == "AWS::CloudFormation::Stack" and logical_id.endswith(SUBSCRIPTION_SUFFIX):
                consumer = logical_id.removesuffix(SUBSCRIPTION_SUFFIX)
                nested = stack_queues(summary["PhysicalResourceId"], cloudformation)
                found.update({consumer + name: url for name, url in nested.items()})
    return found


def wait_until_priced(stack_name: str, prices: dict[str, str], *, timeout: float = 60) -> float:
    """Wait until the order service's copy of the catalogue holds each product at its price (it follows
    inventory's ProductPriced events); returns the seconds it took.

    Raises
    ------
    TimeoutError
        Naming the products still unknown or at another price after `timeout` seconds.
    """
    table = boto3.resource("dynamodb").Table(stack_outputs(stack_name)["OrderTableName"])
    started = time.monotonic()
    pending = dict(prices)
    while pending:
        for product_id, price in list(pending.items()):
            item = table.get_item(Key={"pk": f"PRICE#{product_id}"}, ConsistentRead=True).get("Item")
            if item is not None and item.get("price") == price:
                del pending[product_id]
        if not pending:
            break
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the order service's catalogue does not have {pending} after {timeout:.0f}s")
        time.sleep(0.2)
    return time.monotonic() - started


def api_base_url(outputs: dict[str, str]) -> str:
    """Where the REST API answers: the local cloud's execute-api path, or the AWS URL in the outputs."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f"{endpoint.rstrip('/')}/_aws/execute-api/{outputs['ApiId']}/{outputs['ApiStage']}"
    return outputs["ApiUrl"]


@dataclass(frozen=True)
class ApiClient:
    """A minimal JSON client: anonymous, as a customer (`as_customer`) or as an operator (`as_operator`)."""

    base_url: str
    timeout: float = 90.0
    token: str | None = None
    signed: bool = False
    # Whom an operator's requests are signed as: this process's AWS credentials unless given.
    credentials: Credentials | None = None

    def as_customer(self, token: str) -> ApiClient:
        """The same client, sending a customer's ID token."""
        return replace(self, token=token, signed=False)

    def as_operator(self, credentials: Credentials | None = None) -> ApiClient:
        """The same client, signing every request (SigV4) with `credentials`, or this process's AWS credentials."""
        return replace(self, token=None, signed=True, credentials=credentials or self.credentials)

    def anonymous(self) -> ApiClient:
        """The same client, with no credentials at all."""
        return replace(self, token=None, signed=False)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> HttpResult:
        """Send one request; a JSON `body` is encoded, `raw` is sent as it is."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if self.signed:
            all_headers = sign(method, self.base_url + path, data, all_headers, self.credentials)
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _result(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return _result(error.code, dict(error.headers), error.read())


def _result(status: int, headers: dict[str, str], payload: bytes) -> HttpResult:
    try:
        body = json.loads(payload) if payload else None
    except ValueError:
        body = payload.decode(errors="replace")
    return HttpResult(status=status, headers=headers, body=body)


def sign(
    method: str, url: str, data: bytes | None, headers: dict[str, str], credentials: Credentials | None = None
) -> dict[str, str]:
    """`headers` plus a SigV4 signature of the request for API Gateway (service `execute-api`), with
    `credentials` or this process's."""
    # The default session when one was set up (shopctl --profile), so a request is signed as the caller chose.
    session = boto3.DEFAULT_SESSION or boto3.session.Session()
    credentials = credentials or session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials to sign with: set AWS_PROFILE or the AWS_ACCESS_KEY_ID pair")
    request = AWSRequest(method=method, url=url, data=data or b"", headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", session.region_name or "us-east-1").add_auth(request)
    return dict(request.headers.items())


def customer_token(outputs: dict[str, str], email: str, password: str) -> str:
    """The ID token of a customer of the stack's user pool, creating the customer if need be.

    Uses the admin flow the pool's client allows for tools (AdminCreateUser, AdminSetUserPassword,
    AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH), so it needs admin rights on the pool.
    """
    cognito = boto3.client("cognito-idp")
    pool = outputs["UserPoolId"]
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return str(answer["AuthenticationResult"]["IdToken"])

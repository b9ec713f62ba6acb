"""What the deployed stack shows the outside (its outputs), and a small JSON client for its REST API.

Developer and operator tooling (seed, demo, stack info, redrive); the end-to-end tests use it too.
Talks to whatever AWS_ENDPOINT_URL names.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3


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


def api_base_url(outputs: dict[str, str]) -> str:
    """Where the REST API answers: the local cloud's execute-api path, or the AWS URL in the outputs."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f"{endpoint.rstrip('/')}/_aws/execute-api/{outputs['ApiId']}/{outputs['ApiStage']}"
    return outputs["ApiUrl"]


@dataclass(frozen=True)
class ApiClient:
    """A minimal JSON client (standard library only, so it runs anywhere the project does)."""

    base_url: str
    timeout: float = 90.0

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

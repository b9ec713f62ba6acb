"""What the deployed stack shows the outside (its outputs), and a small JSON client for its REST API.

Shared by the seed, demo, stack info and end-to-end tests; talks to whatever AWS_ENDPOINT_URL names.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable
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


class BusSubscriber:
    """A new consumer of the bus, subscribed as any team would add one: its own rule and its own queue,
    polled in the background. Keeps every distinct saga event (by eventId) by saga id, in arrival order,
    and calls `on_new_event` once per distinct event."""

    def __init__(
        self, bus_name: str, *, prefix: str, on_new_event: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self._events = boto3.client("events")
        self._sqs = boto3.client("sqs")
        self.bus_name, self.name = bus_name, f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.queue_url = self._sqs.create_queue(QueueName=self.name)["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        pattern = json.dumps({"source": [{"prefix": "shop."}]})
        self._events.put_rule(Name=self.name, EventBusName=bus_name, EventPattern=pattern)
        self._events.put_targets(
            Rule=self.name,
            EventBusName=bus_name,
            Targets=[{"Id": "subscriber", "Arn": attributes["Attributes"]["QueueArn"]}],
        )
        self._on_new_event = on_new_event
        self._by_saga: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            batch = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in batch.get("Messages", []):
                self._record(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, event: dict[str, Any]) -> None:
        metadata = (event.get("detail") or {}).get("metadata") or {}
        event_id, saga = metadata.get("eventId"), metadata.get("correlationId", "?")
        with self._lock:
            # A consumer dedupes on eventId: a re-published event is the same event.
            if not event_id or event_id in self._seen:
                return
            self._seen.add(event_id)
            self._by_saga[saga].append(event)
        if self._on_new_event:
            self._on_new_event(event)

    def events(self, saga_id: str) -> list[dict[str, Any]]:
        """Every distinct event seen so far for one saga."""
        with self._lock:
            return list(self._by_saga.get(saga_id, []))

    def types(self, saga_id: str) -> list[str]:
        """The detail-types of the distinct events seen for one saga, sorted."""
        return sorted(event["detail-type"] for event in self.events(saga_id))

    def close(self) -> None:
        """Stop polling and remove the rule and the queue."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._events.remove_targets(Rule=self.name, EventBusName=self.bus_name, Ids=["subscriber"])
        self._events.delete_rule(Name=self.name, EventBusName=self.bus_name)
        self._sqs.delete_queue(QueueUrl=self.queue_url)

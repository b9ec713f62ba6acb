"""End-to-end fixtures: the stack deployed on the local cloud, its API, and a listener on its bus.

The listener subscribes its own queue to the bus with its own rule, exactly as a new consumer would,
and records every saga event it sees by saga id.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from scripts.stack import ApiClient, api_base_url, stack_outputs


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


class BusListener:
    """A new consumer on the bus: its own rule, its own queue, polled in the background."""

    def __init__(self, bus_name: str) -> None:
        self._events = boto3.client("events")
        self._sqs = boto3.client("sqs")
        self.name = f"e2e-listener-{uuid.uuid4().hex[:8]}"
        self.queue_url = self._sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.bus_name = bus_name
        self._events.put_rule(
            Name=self.name, EventBusName=bus_name, EventPattern=json.dumps({"source": [{"prefix": "shop."}]})
        )
        self._events.put_targets(Rule=self.name, EventBusName=bus_name, Targets=[{"Id": "listener", "Arn": arn}])
        self.by_saga: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._seen: set[str | None] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            messages = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in messages.get("Messages", []):
                event = json.loads(message["Body"])
                metadata = (event.get("detail") or {}).get("metadata", {})
                saga, event_id = metadata.get("correlationId", "?"), metadata.get("eventId")
                with self._lock:
                    # A consumer dedupes on eventId: a re-published event is the same event.
                    if event_id not in self._seen:
                        self._seen.add(event_id)
                        self.by_saga[saga].append(event)
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def events(self, saga_id: str) -> list[dict[str, Any]]:
        """Every distinct event (by eventId) seen so far for one saga."""
        with self._lock:
            return list(self.by_saga.get(saga_id, []))

    def types(self, saga_id: str) -> list[str]:
        """The detail-types seen for one saga, sorted."""
        return sorted(event["detail-type"] for event in self.events(saga_id))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._events.remove_targets(Rule=self.name, EventBusName=self.bus_name, Ids=["listener"])
        self._events.delete_rule(Name=self.name, EventBusName=self.bus_name)
        self._sqs.delete_queue(QueueUrl=self.queue_url)


@pytest.fixture(scope="session")
def outputs() -> dict[str, str]:
    name = os.environ.get("AWS_SAM_STACK_NAME")
    if not name:
        pytest.fail("AWS_SAM_STACK_NAME is not set: run the end-to-end tests with `make e2e`")
    return stack_outputs(name)


@pytest.fixture(scope="session")
def api(outputs: dict[str, str]) -> ApiClient:
    return ApiClient(api_base_url(outputs))


@pytest.fixture(scope="session")
def bus(outputs: dict[str, str]) -> Iterator[BusListener]:
    listener = BusListener(outputs["EventBusName"])
    yield listener
    listener.close()


@pytest.fixture
def new_product(api: ApiClient) -> Callable[..., str]:
    """Create products of our own."""
    return lambda available, price="10.00": create_product(api, available, price)


def create_product(api: ApiClient, available: int, price: str = "10.00") -> str:
    """A product of our own, so no other test can touch its stock."""
    product_id = f"E2E-{uuid.uuid4().hex[:10]}"
    result = api.call("PUT", f"/products/{product_id}", {"name": product_id, "price": price, "available": available})
    assert result.status == 200, result.body
    return product_id


@pytest.fixture(scope="session", autouse=True)
def stalled_order(api: ApiClient, bus: BusListener) -> tuple[str, str]:
    """An order whose payment never completes, placed first so that its deadline runs out while the
    other tests run (test_timeout checks it last): (order id, product id)."""
    product = create_product(api, 5)
    body = {
        "customerId": "e2e-stalled",
        "items": [{"productId": product, "quantity": 1}],
        "totalAmount": "10.00",
        "payment": {"token": "tok_pending"},
    }
    result = api.call("POST", "/orders", body)
    assert result.status == 201, result.body
    return str(result.body["orderId"]), product

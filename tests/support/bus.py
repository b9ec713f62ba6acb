"""A new consumer of the bus, as the tests subscribe one: its own rule and its own queue, polled live."""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import boto3


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

    def all_events(self) -> list[dict[str, Any]]:
        """Every distinct event seen so far, of every saga (and of every product)."""
        with self._lock:
            return [event for events in self._by_saga.values() for event in events]

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

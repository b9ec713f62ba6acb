"""Move the messages in the stack's consumer dead-letter queues back to their queues, after a fix: the library
under `shopctl dlq redrive` (and `make redrive`).

Each consumer's DLQ pairs with its queue by name (`<Consumer>DeadLetterQueue` -> `<Consumer>Queue`, the
queues of its subscription). Events are redelivered as they were,
so consumers dedupe any that had in fact been applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scripts.stack import stack_queues

DLQ_SUFFIX = "DeadLetterQueue"


@dataclass(frozen=True)
class Redrive:
    """One consumer's dead-letter queue and the queue its messages go back to."""

    consumer: str
    dead_letter_queue_url: str
    queue_url: str


def redrives_of_stack(stack_name: str, cloudformation: Any = None) -> list[Redrive]:
    """Every consumer DLQ of the stack with its source queue."""
    physical = stack_queues(stack_name, cloudformation)
    return [
        Redrive(name.removesuffix(DLQ_SUFFIX), url, physical[name.removesuffix(DLQ_SUFFIX) + "Queue"])
        for name, url in sorted(physical.items())
        if name.endswith(DLQ_SUFFIX) and name.removesuffix(DLQ_SUFFIX) + "Queue" in physical
    ]


def count(sqs: Any, queue_url: str) -> int:
    """Messages waiting in a queue (approximate, as SQS reports it)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def redrive(
    sqs: Any,
    target: Redrive,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
) -> int:
    """Move the DLQ's messages dead-lettered within [since, until) back to the consumer's queue (all of
    them without a window); returns how many moved (would move, with `dry_run`). The others stay, visible."""
    moved, seen = 0, set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=target.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            AttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        for again in (m for m in batch if m["MessageId"] in seen):  # left where it was, visible at once
            _release(sqs, target, again)
        if not fresh:
            return moved
        for message in fresh:
            seen.add(message["MessageId"])
            sent = datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC)
            inside = (since is None or sent >= since) and (until is None or sent < until)
            if inside and not dry_run:
                sqs.send_message(QueueUrl=target.queue_url, MessageBody=message["Body"])
                # Deleted only once it is safely back on its queue: a crash here redelivers, never loses.
                sqs.delete_message(QueueUrl=target.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                _release(sqs, target, message)
            moved += inside


def _release(sqs: Any, target: Redrive, message: dict[str, Any]) -> None:
    sqs.change_message_visibility(
        QueueUrl=target.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )

"""Move the messages in the stack's consumer dead-letter queues back to their queues, after a fix: the library
under `shopctl dlq redrive` (and `make redrive`).

Each consumer's DLQ pairs with its queue by name (`<Consumer>DeadLetterQueue` -> `<Consumer>Queue`, the
queues of its subscription). Events are redelivered as they were, so consumers dedupe any that had in fact
been applied.

A redrive scans the whole queue once: every message it has seen stays invisible until the scan ends (so
each receive brings new ones, and none is counted twice), and only messages already there when the scan
began are considered, so a message a consumer parks again during the scan (the same poison event, say)
is not moved again in a loop. The time window is each message's `SentTimestamp`: when it was first sent,
to its consumer's queue (SQS keeps that time when it moves a message to the DLQ) or to the DLQ itself
when the consumer parked it there at once (a malformed event).

Another reader may hold some messages for a moment: the dead-letter reporters (`shared/dead_letters.py`)
read every compensation DLQ once a minute and show each message again within seconds. A scan that ends
while messages are held elsewhere waits for them (up to `HELD_ELSEWHERE_WAIT_SECONDS`, longer than a
reporter may hold one) and scans again; what is still held then is reported, not silently left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shopctl.stack import stack_queues

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


# Seen messages stay invisible for this long (extended while the scan goes on), then are released at once.
SCAN_VISIBILITY_SECONDS = 300
WAIT_SECONDS = 1
# Longer than a dead-letter reporter's scan may hide a message (shared.dead_letters.SCAN_VISIBILITY_SECONDS).
HELD_ELSEWHERE_WAIT_SECONDS = 35


@dataclass
class RedriveReport:
    """What one redrive of a dead-letter queue did."""

    examined: int = 0  # messages there when the scan began, each seen once
    moved: int = 0  # in the window: sent back (or, in a dry run, would be)
    outside_window: int = 0  # left where they were
    arrived_during_scan: int = 0  # parked again, or newly, while the scan ran: left for the next redrive
    held_elsewhere: int = 0  # hidden by another reader until the end: left for the next redrive
    handles: list[str] = field(default_factory=list, repr=False)


def redrive(
    sqs: Any,
    target: Redrive,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
) -> RedriveReport:
    """Move the DLQ's messages sent within [since, until) back to the consumer's queue (all of them without a
    window); the others stay, visible again when the scan ends (module docstring)."""
    report = RedriveReport()
    started = time.time()
    seen: set[str] = set()
    patience = time.monotonic() + HELD_ELSEWHERE_WAIT_SECONDS
    try:
        while True:
            batch = sqs.receive_message(
                QueueUrl=target.dead_letter_queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=SCAN_VISIBILITY_SECONDS,
                WaitTimeSeconds=WAIT_SECONDS,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            for message in fresh:
                seen.add(message["MessageId"])
                _consider(sqs, target, message, report, window=(since, until), dry_run=dry_run, started=started)
            if fresh:
                continue
            # The whole queue was seen, but for what another reader holds (ours are still hidden by us).
            report.held_elsewhere = max(0, hidden(sqs, target.dead_letter_queue_url) - len(report.handles))
            if not report.held_elsewhere or time.monotonic() > patience:
                return report
            time.sleep(2)
    finally:
        for handle in report.handles:  # everything not moved is visible again at once
            sqs.change_message_visibility(
                QueueUrl=target.dead_letter_queue_url, ReceiptHandle=handle, VisibilityTimeout=0
            )


def hidden(sqs: Any, queue_url: str) -> int:
    """Messages of a queue that a reader holds (approximate, as SQS reports it)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


def _consider(
    sqs: Any,
    target: Redrive,
    message: dict[str, Any],
    report: RedriveReport,
    *,
    window: tuple[datetime | None, datetime | None],
    dry_run: bool,
    started: float,
) -> None:
    since, until = window
    sent_ms = int(message["Attributes"]["SentTimestamp"])
    if sent_ms / 1000 > started:
        report.arrived_during_scan += 1
        report.handles.append(message["ReceiptHandle"])
        return
    report.examined += 1
    sent = datetime.fromtimestamp(sent_ms / 1000, UTC)
    if not ((since is None or sent >= since) and (until is None or sent < until)):
        report.outside_window += 1
        report.handles.append(message["ReceiptHandle"])
        return
    report.moved += 1
    if dry_run:
        report.handles.append(message["ReceiptHandle"])
        return
    sqs.send_message(QueueUrl=target.queue_url, MessageBody=message["Body"])
    # Deleted only once it is safely back on its queue: a crash here redelivers, never loses.
    sqs.delete_message(QueueUrl=target.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])

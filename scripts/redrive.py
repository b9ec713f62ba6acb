"""Move the messages in the stack's consumer dead-letter queues back to their queues, after a fix.

    python -m scripts.redrive --stack shop-saga                      (make redrive)
    python -m scripts.redrive --stack shop-saga --consumer PaymentOnOrderCancelled
    python -m scripts.redrive --stack shop-saga --dry-run            # only count

Each consumer's DLQ pairs with its queue by name (`<Consumer>DeadLetterQueue` -> `<Consumer>Queue`, the
queues of its subscription). Prints how many messages moved per consumer. Events are redelivered as they were,
so consumers dedupe any that had in fact been applied.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import boto3

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


def redrive(sqs: Any, target: Redrive, *, limit: int = 10_000) -> int:
    """Move up to `limit` messages from the DLQ back to the queue; returns how many moved."""
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=target.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            sqs.send_message(QueueUrl=target.queue_url, MessageBody=message["Body"])
            # Deleted only once it is safely back on its queue: a crash here redelivers, never loses.
            sqs.delete_message(QueueUrl=target.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    parser.add_argument("--consumer", help="only this consumer, e.g. PaymentOnOrderCancelled")
    parser.add_argument("--dry-run", action="store_true", help="count the messages, move nothing")
    args = parser.parse_args(argv)
    sqs = boto3.client("sqs")
    targets = [t for t in redrives_of_stack(args.stack) if args.consumer in (None, t.consumer)]
    if not targets:
        print(f"error: no consumer {args.consumer!r} in stack {args.stack}", file=sys.stderr)
        return 1
    total = 0
    for target in targets:
        moved = count(sqs, target.dead_letter_queue_url) if args.dry_run else redrive(sqs, target)
        total += moved
        if moved:
            print(f"{target.consumer}: {moved} message(s) {'waiting' if args.dry_run else 'moved back'}")
    print(
        f"{'waiting in' if args.dry_run else 'redriven from'} {len(targets)} dead-letter queue(s): {total} message(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

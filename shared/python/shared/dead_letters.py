"""Reports compensations whose messages reached their dead-letter queue without a word.

Triggered every minute by each compensating service's dead-letter reporter (payment's for refunds,
inventory's for releases); emits, through the service's report, CompensationFailed `dead_lettered`.

A compensation that keeps failing is reported by its consumer's last delivery (`give_up` in
`shared.consumer`). A last delivery that times out or crashes never gets there, and its message reaches the
dead-letter queue silently. This reads the queue and hands each message's event to the service's report,
which reports a failure once per event (`UnitOfWork.reporting_failure_of`), and only while the record
still holds something (money, stock): a failure the last delivery reported, or a message whose work was
done after all, is not reported again.

Every message is left where it was: each is hidden for the few seconds of the scan (so that the next
receive returns the next ones) and made visible again at its end, ready for `shopctl dlq redrive`.
Records parked as malformed (`FailureReason`) and bodies that are not the expected event are skipped:
they are no compensation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from shared.environment import once
from shared.errors import MalformedEvent
from shared.observability import logger
from shared.settings import Settings, load_settings
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope
from shop_contracts.errors import LaterEventVersion
from shop_contracts.registry import parse_event

SCAN_VISIBILITY_SECONDS = 30
"""How long a message seen by a scan stays hidden at most, should the scan die before it shows them again."""
MOST_MESSAGES = 100
"""A scan reads at most this many messages (within the function's 10 s). Of a deeper queue it sees those SQS
returns first, roughly the oldest, until a redrive empties it; the queue's depth alarm has fired by then."""


class DeadLetterSettings(Settings):
    """The dead-letter queue of the consumer whose compensation a reporter watches."""

    queue_url: str = Field(alias="COMPENSATION_DEAD_LETTER_QUEUE_URL", min_length=1)


@once
def dead_letter_settings() -> DeadLetterSettings:
    """This reporter's queue, validated once."""
    return load_settings(DeadLetterSettings)


@dataclass(frozen=True)
class DeadLetterScan:
    """What one scan of a dead-letter queue found."""

    examined: int
    reported: int
    skipped: int
    failed: int


def report_dead_letters[EventT: DomainEvent](
    sqs: Any, queue_url: str, expected: type[EventT], report: Callable[[Envelope[EventT]], bool]
) -> DeadLetterScan:
    """Hand each dead-lettered `expected` event of the queue to `report` (True when it reported one)."""
    messages = _scan(sqs, queue_url)
    reported = skipped = failed = 0
    try:
        for message in messages:
            envelope = _event_of(message, expected)
            if envelope is None:
                skipped += 1
                continue
            logger.append_keys(correlation_id=envelope.metadata.correlation_id, event_id=envelope.metadata.event_id)
            try:
                reported += report(envelope)
            except Exception:
                # Tried again by the next minute's scan; the message stays in the queue either way.
                logger.exception("could not report a dead-lettered event", message_id=message["MessageId"])
                failed += 1
    finally:
        _show_again(sqs, queue_url, messages)
    scan = DeadLetterScan(examined=len(messages), reported=reported, skipped=skipped, failed=failed)
    if messages:
        logger.info("dead-letter queue scanned", **scan.__dict__)
    return scan


def _scan(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < MOST_MESSAGES:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=SCAN_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,
            MessageAttributeNames=["FailureReason"],
        ).get("Messages", [])
        if not batch:
            break
        seen.update((message["MessageId"], message) for message in batch)
    return list(seen.values())


def _show_again(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
            for index, message in enumerate(messages[start : start + 10])
        ]
        failed = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:  # they show again by themselves after SCAN_VISIBILITY_SECONDS
            logger.warning("messages stay hidden until their scan visibility ends", failed=len(failed))


def _event_of[EventT: DomainEvent](message: dict[str, Any], expected: type[EventT]) -> Envelope[EventT] | None:
    if "FailureReason" in message.get("MessageAttributes", {}):
        return None  # parked as malformed by the consumer: not a compensation that failed
    try:
        return parse_event(json.loads(message["Body"]), expected)
    except (ValueError, MalformedEvent, LaterEventVersion) as exc:
        logger.warning("a dead-lettered message is not a compensation's event", reason=str(exc)[:500])
        return None

"""Runs a consumer's reaction over an SQS batch of EventBridge events, reporting partial batch failures.

Each consumer reads its own queue, fed by its own rule. A record whose event was already applied is
acknowledged; a record that fails is reported alone, so SQS redelivers it while the rest of the batch
flows on, and after the queue's maxReceiveCount it lands in the consumer's dead-letter queue; one whose
write lost a race for its item to another worker is first run again at once, a few times. A
consumer whose failure must not go unnoticed (a compensation) passes `give_up`, which runs once on
the last delivery before the record goes to the dead-letter queue.

The queue, its dead-letter queue and its maxReceiveCount come from the consumer building block
(blocks/consumer.yaml); the function learns them from the queue's own redrive policy when it first needs
them, so a consumer needs no wiring but its subscription.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import aws
from shared.environment import kept
from shared.errors import ChangedConcurrently, DuplicateEvent, MalformedEvent
from shared.metrics import measures
from shared.observability import logger
from shared.storage import Key, Table, forget_read_ahead, read_ahead
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope, utc_now
from shop_contracts.errors import LaterEventVersion
from shop_contracts.registry import parse_event

_RECORD_KEYS = ("correlation_id", "event_id", "detail_type")

# SQS's own default, assumed only while a queue's redrive policy cannot be read.
DEFAULT_MAX_RECEIVE_COUNT = 3
# A reaction whose write lost a race for its item (ChangedConcurrently) runs again at once, this many
# times in all, before its record goes back to the queue, which would deliver it again only after the
# visibility timeout (60 s on AWS). The pauses between runs are jittered, up to RACE_PAUSE_SECONDS x 2^n.
RACE_ATTEMPTS = 4
RACE_PAUSE_SECONDS = 0.02


@dataclass(frozen=True)
class QueueRecord:
    """One SQS record as Lambda delivers it, the fields a consumer reads.

    Read straight from the event's dict: Powertools' batch utility and data classes would cost every
    consumer's cold start about 80 ms of imports (asyncio, every event source's data class) for a loop
    this module writes in ten lines (docs/decisions.md, "Cold starts").
    """

    message_id: str
    body: str
    receive_count: int
    source_arn: str

    @classmethod
    def of(cls, raw: dict[str, Any]) -> QueueRecord:
        """The record in `raw` (a missing field reads as empty: its event is then refused as malformed)."""
        attributes = raw.get("attributes") or {}
        return cls(
            message_id=str(raw.get("messageId", "")),
            body=str(raw.get("body") or ""),
            receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
            source_arn=str(raw.get("eventSourceARN", "")),
        )


def each_record(event: dict[str, Any], handle: Callable[[QueueRecord], None]) -> dict[str, Any]:
    """Run `handle` on every record of an SQS batch; the partial batch response names those that raised.

    A record that fails is logged and reported alone, so SQS delivers it again (and after the queue's
    maxReceiveCount moves it to the dead-letter queue) while the rest of the batch flows on. A wholly
    failed batch is reported record by record too, so every outcome reaches SQS the same way.
    """
    failed: list[str] = []
    for raw in event.get("Records", []):
        record = QueueRecord.of(raw)
        try:
            handle(record)
        except Exception:
            # This line, keyed by message id, is the record of why it was retried or dead-lettered.
            logger.exception(
                "record failed; it will be delivered again or dead-lettered",
                message_id=record.message_id,
                attempt=record.receive_count,
            )
            failed.append(record.message_id)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


@dataclass(frozen=True)
class DeadLetter:
    """Where a consumer's queue sends what it gives up on, and after how many deliveries."""

    queue_url: str | None
    max_receive_count: int


_dead_letters: dict[str, DeadLetter] = kept({})


def dead_letter_of(queue_arn: str) -> DeadLetter:
    """The dead-letter queue behind the queue `queue_arn`, from that queue's redrive policy.

    Read once per execution environment. If it cannot be read (a queue with no redrive policy, a role
    without the grant), the answer is not kept: records are then reported as failed and SQS moves them
    by the queue's own redrive policy, so nothing is lost, only the reason is not attached.
    """
    known = _dead_letters.get(queue_arn)
    if known is not None:
        return known
    sqs = aws.sqs()
    *_, account, name = queue_arn.split(":")
    try:
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        policy = json.loads(attributes["RedrivePolicy"])
        *_, dlq_account, dlq_name = str(policy["deadLetterTargetArn"]).split(":")
        dlq_url = sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=dlq_account)["QueueUrl"]
        found = DeadLetter(queue_url=dlq_url, max_receive_count=int(policy["maxReceiveCount"]))
    except Exception as exc:  # any failure here must not turn into a failed batch
        logger.warning("cannot read the queue's redrive policy", queue_arn=queue_arn, reason=str(exc))
        return DeadLetter(queue_url=None, max_receive_count=DEFAULT_MAX_RECEIVE_COUNT)
    _dead_letters[queue_arn] = found
    return found


def park(record: QueueRecord, *, reason: str, queue_url: str) -> None:
    """Send a record to the dead-letter queue with why it failed; operators redrive it after a fix."""
    aws.sqs().send_message(
        QueueUrl=queue_url,
        MessageBody=record.body,
        MessageAttributes={
            "FailureReason": {"DataType": "String", "StringValue": reason[:1000]},
            "OriginalMessageId": {"DataType": "String", "StringValue": record.message_id},
        },
    )


def read_record[EventT: DomainEvent](record: QueueRecord, expected: type[EventT]) -> Envelope[EventT]:
    """The typed envelope in one SQS record whose body is an EventBridge event.

    Raises
    ------
    MalformedEvent
        When the body is not JSON or not a valid `expected` event.
    """
    try:
        raw = json.loads(record.body)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(f"message body is not JSON: {exc}") from exc
    return parse_event(raw, expected)


def _read_or_park[EventT: DomainEvent](record: QueueRecord, expected: type[EventT]) -> Envelope[EventT] | None:
    """The record's event; None when there is nothing to apply: a later version (skipped) or a malformed
    event (parked in the dead-letter queue with its reason).

    Raises
    ------
    MalformedEvent
        When the event is malformed and the dead-letter queue cannot be found: the record fails as any other.
    """
    logger.remove_keys(list(_RECORD_KEYS))
    logger.append_keys(message_id=record.message_id, receive_count=record.receive_count)
    try:
        return read_record(record, expected)
    except LaterEventVersion as exc:
        # Its twin in the version this consumer reads is on the bus too: nothing to do, nothing to park.
        logger.info("later event version skipped", reason=str(exc))
        return None
    except MalformedEvent as exc:
        # Logged with the message id, so the record in the DLQ can be matched to why it failed.
        logger.error("malformed event rejected", reason=str(exc))
        dead_letter = dead_letter_of(record.source_arn)
        if dead_letter.queue_url is None:
            raise
        # Retrying cannot fix a malformed event: park it with its reason at once, so it neither
        # burns retries nor holds up the queue behind it.
        park(record, reason=str(exc), queue_url=dead_letter.queue_url)
        return None


class ReadsAhead(Protocol):
    """What reads a batch's items ahead of its reactions (a service's `UnitOfWork`, the projector's
    repository): one read for the batch instead of one per record."""

    def read_ahead(self, causes: Sequence[Envelope[Any]]) -> None:
        """Read together what the reactions to `causes` will read first."""
        ...

    def forget_read_ahead(self) -> None:
        """Drop what was read ahead and not used."""
        ...


def consume[EventT: DomainEvent](
    event: dict[str, Any],
    context: LambdaContext,
    *,
    expected: type[EventT],
    react: Callable[[Envelope[EventT]], None],
    give_up: Callable[[Envelope[EventT], Exception], None] | None = None,
    reads_ahead: ReadsAhead | None = None,
) -> dict[str, Any]:
    """Apply `react(envelope)` to each event of an SQS batch; on the last delivery (the queue's
    maxReceiveCount) of a record that fails, `give_up(envelope, error)` first.

    Returns the partial batch response for Lambda. A malformed record goes straight to the
    consumer's dead-letter queue, with its reason as the `FailureReason` message attribute; if that
    queue cannot be found it is reported as failed like any other. With `reads_ahead`, what the batch's
    reactions read first is read together before the first of them runs.
    """

    def react_alone(members: list[tuple[QueueRecord, Envelope[EventT]]]) -> bool:
        ((record, envelope),) = members
        logger.append_keys(
            message_id=record.message_id,
            receive_count=record.receive_count,
            correlation_id=envelope.metadata.correlation_id,
            event_id=envelope.metadata.event_id,
            detail_type=envelope.data.detail_type(),
        )
        try:
            _despite_races(lambda: react(envelope))
        except DuplicateEvent:
            logger.info("event already applied; skipped")
            return False
        except Exception as exc:
            if give_up is not None and record.receive_count >= dead_letter_of(record.source_arn).max_receive_count:
                try:
                    give_up(envelope, exc)
                except Exception:
                    logger.exception("could not report the failure; the record still goes to the DLQ")
            raise
        return True

    return _consume(
        event, expected=expected, key=lambda record, _: record.message_id, react=react_alone, reads_ahead=reads_ahead
    )


def consume_grouped[EventT: DomainEvent](
    event: dict[str, Any],
    context: LambdaContext,
    *,
    expected: type[EventT],
    key: Callable[[Envelope[EventT]], str],
    react: Callable[[list[Envelope[EventT]]], None],
    reads_ahead: ReadsAhead | None = None,
) -> dict[str, Any]:
    """Like `consume`, but `react(envelopes)` takes at once every event of the batch that shares a `key`
    (in batch order), so a consumer that keeps one item per key reads and writes it once per batch.

    Returns the partial batch response for Lambda: when `react` fails for a group, every record of that
    group is reported failed and delivered again (its other groups are not). Malformed and later-version
    records are handled as `consume` handles them.
    """

    def react_together(members: list[tuple[QueueRecord, Envelope[EventT]]]) -> bool:
        envelopes = [envelope for _, envelope in members]
        logger.append_keys(correlation_id=envelopes[0].metadata.correlation_id)
        _despite_races(lambda: react(envelopes))
        return True

    return _consume(
        event, expected=expected, key=lambda _, envelope: key(envelope), react=react_together, reads_ahead=reads_ahead
    )


def _consume[EventT: DomainEvent](
    event: dict[str, Any],
    *,
    expected: type[EventT],
    key: Callable[[QueueRecord, Envelope[EventT]], str],
    react: Callable[[list[tuple[QueueRecord, Envelope[EventT]]]], bool],
    reads_ahead: ReadsAhead | None,
) -> dict[str, Any]:
    """Read every record of the batch, read ahead for them, then `react` group by group (the records that
    share a `key`, in batch order); a group whose `react` raises is reported failed, record by record, so
    SQS delivers it again (and after the queue's maxReceiveCount moves it to the dead-letter queue) while
    the rest of the batch flows on. `react` returns whether it applied the events (their lag is measured)."""
    failed: list[str] = []
    groups: dict[str, list[tuple[QueueRecord, Envelope[EventT]]]] = {}
    try:
        for raw in event.get("Records", []):
            record = QueueRecord.of(raw)
            try:
                envelope = _read_or_park(record, expected)
            except Exception:
                logger.exception(
                    "record failed; it will be delivered again or dead-lettered",
                    message_id=record.message_id,
                    attempt=record.receive_count,
                )
                failed.append(record.message_id)
                continue
            if envelope is not None:
                groups.setdefault(key(record, envelope), []).append((record, envelope))
        if reads_ahead is not None and groups:
            causes = [envelope for members in groups.values() for _, envelope in members]
            _read_ahead(lambda: reads_ahead.read_ahead(causes))
        for members in groups.values():
            logger.remove_keys(list(_RECORD_KEYS))
            try:
                applied = react(members)
            except Exception:
                # This line, keyed by message id, is the record of why it was retried or dead-lettered.
                logger.exception(
                    "record failed; it will be delivered again or dead-lettered",
                    message_ids=[record.message_id for record, _ in members],
                    attempt=max(record.receive_count for record, _ in members),
                )
                failed += [record.message_id for record, _ in members]
                continue
            if applied:
                # How far behind the bus this consumer runs (a growing lag is a backlog before it is an outage).
                for _, envelope in members:
                    measures.seconds("ConsumerLag", (utc_now() - envelope.metadata.occurred_at).total_seconds())
    finally:
        if reads_ahead is not None:
            reads_ahead.forget_read_ahead()
        measures.flush()
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def _despite_races(react: Callable[[], None]) -> None:
    """`react()`, run again while its write loses a race for its item to another worker's.

    A second run is what the queue's redelivery would be, only sooner, and every reaction is already safe to
    deliver again: its guarded write is conditional on what it read, so the refused one wrote nothing, and
    the next run reads what the winner wrote (a read ahead answers a key once). The races are ordinary: an
    order's payment and its reservation are noted by two consumers, at once whenever both hops are quick.
    """
    for attempt in range(1, RACE_ATTEMPTS):
        try:
            react()
        except ChangedConcurrently as lost:
            logger.info("lost a race for an item; applying the event again", item=lost.key, attempt=attempt)
            time.sleep(random.uniform(0, RACE_PAUSE_SECONDS * 2**attempt))
        else:
            return
    react()


def _read_ahead(read: Callable[[], None]) -> None:
    # Only a saving: if the read fails, each reaction reads for itself (and fails, if it must, on its own).
    try:
        read()
    except Exception as exc:
        logger.warning("could not read the batch's items ahead; each reaction reads its own", reason=str(exc))


@contextmanager
def items_read_ahead(table: Table, keys: Sequence[Key]) -> Iterator[None]:
    """For a batch that is not of saga events (the deadlines): these items read together for the next
    `get` of each, as `consume`'s `reads_ahead` does, and forgotten when the batch is done."""
    _read_ahead(lambda: read_ahead(table, keys))
    try:
        yield
    finally:
        forget_read_ahead(table)

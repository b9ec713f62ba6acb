"""Outbox relay: a service's outbox rows become events on the bus, and are removed once accepted.

Triggered by the service table's DynamoDB stream (each INSERT of an outbox row, at once) and by a
schedule every minute (the sweeper: rows still there after a minute, whatever happened to the stream);
emits whatever the rows say, with their own event ids, so a row published twice is one event to a
consumer. A row is removed only after PutEvents accepted it, so an outage of any length, or a stream
batch given up, loses nothing while the row lives. A relay speaks only for its own service: a row whose
source is another service's is refused, logged and parked in the relay's dead-letter queue. A row that
PutEvents still rejects after the publisher's re-sends is counted and moved to the back of the sweeper's
queue (so it cannot pin the sweeper to the same oldest rows); after PARK_AFTER_REJECTIONS such runs it is
parked there too, with EventBridge's reason (`shopctl dlq show Relay`), and removed.
"""

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from shared import aws, seams
from shared.environment import once
from shared.errors import ChangedConcurrently, EventPublishError
from shared.metrics import measures
from shared.observability import logger, tracer
from shared.outbox import OUTBOX_INDEX, OUTBOX_PENDING, OUTBOX_PREFIX
from shared.publisher import EventBridgePublisher, Publisher
from shared.settings import Settings, load_settings
from shared.storage import Delete, Item, Table, Update, exists
from shared.storage.attribute_values import untyped_item
from shared.storage.dynamodb import DynamoTable

# The sweeper leaves rows younger than this to the stream, which publishes them within a second or two.
SWEEP_AFTER_SECONDS = 60
SWEEP_BATCH = 100
# Runs of the relay (each with the publisher's re-sends) a row may be rejected in before it is parked.
PARK_AFTER_REJECTIONS = 5
REJECTIONS = "rejections"
COMMITTED_AT = "committedAt"  # a rejected row's first outboxAt: outboxAt moves on, the commit time does not


def stream_rows(records: Iterable[dict[str, Any]]) -> list[Item]:
    """The outbox rows newly inserted in a stream batch, in stream order."""
    rows = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        image = record.get("dynamodb", {}).get("NewImage", {})
        if not image.get("pk", {}).get("S", "").startswith(OUTBOX_PREFIX):
            continue
        rows.append(untyped_item(image))
    return rows


@dataclass
class RelayResult:
    """What one run of the relay did."""

    published: int = 0
    refused: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # rows PutEvents refused this time (kept, or parked)
    # When each published row was committed (epoch seconds): its age at publish is what operators watch.
    committed_at: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class OutboxRelay:
    """Publishes a service's outbox rows to the bus and removes them once PutEvents accepted them."""

    table: Table
    publisher: Publisher
    bus_name: str
    source: str
    park: Callable[[Item, str], None]  # keeps a refused row, with why, where operators look

    def relay(self, rows: list[Item]) -> RelayResult:
        """Publish the rows that are this service's, refuse the others; remove both from the outbox."""
        result = RelayResult()
        own = [row for row in rows if row.get("source") == self.source]
        for row in rows:
            if row.get("source") != self.source:
                reason = f"outbox row names source {row.get('source')!r}; this relay publishes only {self.source}"
                logger.error("outbox row refused", event_id=row["pk"].removeprefix(OUTBOX_PREFIX), reason=reason)
                self.park(row, reason)
                self.table.write([Delete({"pk": row["pk"]})])
                result.refused.append(row["pk"])
        if own:
            entries = [
                {
                    "EventBusName": self.bus_name,
                    "Source": row["source"],
                    "DetailType": row["detailType"],
                    "Detail": row["detail"],
                    **({"TraceHeader": row["traceHeader"]} if row.get("traceHeader") else {}),
                }
                for row in own
            ]
            try:
                self.publisher.put_entries(entries)
                rejected: dict[int, str] = {}
            except EventPublishError as error:
                rejected = error.rejected
            accepted = [row for index, row in enumerate(own) if index not in rejected]
            result.published = len(accepted)
            result.committed_at = [int(row.get(COMMITTED_AT) or row.get("outboxAt") or 0) for row in accepted]
            # Only now: a crash before this line leaves the rows for the sweeper, never loses them. One
            # batch call for the lot rather than a call per row: the rows are the relay's alone by now.
            self.table.remove([{"pk": row["pk"]} for row in accepted])
            for index, reason in rejected.items():
                self._rejected(own[index], reason)
                result.rejected.append(own[index]["pk"])
        return result

    def _rejected(self, row: Item, reason: str) -> None:
        """Count a rejection and move the row behind every other; park it after PARK_AFTER_REJECTIONS."""
        now = int(time.time())
        key = {"pk": row["pk"]}
        try:
            self.table.write(
                [
                    Update(
                        key,
                        set={"outboxAt": now, COMMITTED_AT: row.get(COMMITTED_AT, row.get("outboxAt", now))},
                        add={REJECTIONS: 1},
                        condition=exists(),
                        conflict=lambda: ChangedConcurrently(row["pk"]),
                    )
                ]
            )
        except ChangedConcurrently:
            return  # another run published and removed it meanwhile
        current = self.table.get(key)
        count = int((current or {}).get(REJECTIONS, 0))
        event_id = row["pk"].removeprefix(OUTBOX_PREFIX)
        if current is None or count < PARK_AFTER_REJECTIONS:
            logger.warning("outbox row rejected by PutEvents; kept for the sweeper", event_id=event_id, reason=reason)
            return
        why = f"PutEvents rejected this outbox row in {count} runs of the relay; the last time: {reason}"
        logger.error("outbox row parked", event_id=event_id, reason=why)
        self.park(current, why)
        self.table.write([Delete(key)])

    def stale_rows(self, now: float, older_than: int = SWEEP_AFTER_SECONDS) -> list[Item]:
        """Rows still in the outbox `older_than` seconds after they were written, oldest first."""
        return self.table.query(
            OUTBOX_INDEX,
            ("outboxState", OUTBOX_PENDING),
            below=("outboxAt", int(now) - older_than),
            limit=SWEEP_BATCH,
        )

    def sweep(self, now: float, older_than: int = SWEEP_AFTER_SECONDS) -> RelayResult:
        """Publish every row the stream left behind (an outage, a batch given up, a crash after PutEvents)."""
        total = RelayResult()
        while rows := self.stale_rows(now, older_than):
            result = self.relay(rows)
            total.published += result.published
            total.refused += result.refused
            total.rejected += result.rejected
            total.committed_at += result.committed_at
            # Rejected rows moved past this sweep's cutoff: the next page holds only rows not tried yet.
            if len(rows) < SWEEP_BATCH:
                break
        return total


class RelaySettings(Settings):
    """Which table, which bus, which source, and where refused rows go."""

    table_name: str = Field(alias="OUTBOX_TABLE_NAME", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    event_source: str = Field(alias="EVENT_SOURCE", pattern=r"^shop\.[a-z]+$")
    dead_letter_queue_url: str = Field(alias="DEAD_LETTER_QUEUE_URL", min_length=1)


@once
def _relay() -> OutboxRelay:
    settings = load_settings(RelaySettings)

    def park(row: Item, reason: str) -> None:
        aws.sqs().send_message(
            QueueUrl=settings.dead_letter_queue_url,
            MessageBody=json.dumps(row, default=str),
            MessageAttributes={"FailureReason": {"DataType": "String", "StringValue": reason[:1000]}},
        )

    return OutboxRelay(
        table=seams.table(DynamoTable(aws.dynamodb(), settings.table_name)),
        publisher=seams.publisher(EventBridgePublisher(seams.events_client(aws.events()))),
        bus_name=settings.event_bus_name,
        source=settings.event_source,
        park=park,
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Entry point of every service's relay: a stream batch, the minute's sweep, or an operator's sweep of
    rows older than `olderThan` seconds (`shopctl outbox republish`)."""
    relay = _relay()
    if "Records" in event:
        result = relay.relay(stream_rows(event["Records"]))
    else:
        older_than = event.get("olderThan", SWEEP_AFTER_SECONDS)
        if not isinstance(older_than, int) or isinstance(older_than, bool) or older_than < 0:
            raise ValueError(f"olderThan must be a whole number of seconds >= 0, got {older_than!r}")
        result = relay.sweep(time.time(), older_than)
        if result.published:
            logger.warning("sweeper published rows the stream had left", published=result.published)
    if result.published:
        logger.info("outbox relayed", published=result.published)
    now = time.time()
    for committed in result.committed_at:
        measures.seconds("OutboxAge", now - committed)
    measures.flush()
    return {"published": result.published, "refused": len(result.refused)}

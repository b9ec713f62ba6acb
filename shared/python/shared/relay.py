"""Outbox relay: a table's stream INSERT of an outbox record becomes one event on the bus.

Triggered by a service table's DynamoDB stream; emits whatever the outbox records say, with their own
event ids, so a re-delivered stream batch re-publishes the same events and consumers dedupe them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer
from pydantic import Field

from shared import aws, seams
from shared.observability import logger
from shared.outbox import OUTBOX_PREFIX
from shared.publisher import EventBridgePublisher, Publisher
from shared.settings import Settings, load_settings

_deserializer = TypeDeserializer()


def outbox_entries(records: list[dict[str, Any]], bus_name: str) -> list[dict[str, Any]]:
    """The PutEvents entries for the outbox records newly inserted in a stream batch, in stream order."""
    entries = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        image = record.get("dynamodb", {}).get("NewImage", {})
        if not image.get("pk", {}).get("S", "").startswith(OUTBOX_PREFIX):
            continue
        item = {name: _deserializer.deserialize(value) for name, value in image.items()}
        entries.append(
            {
                "EventBusName": bus_name,
                "Source": item["source"],
                "DetailType": item["detailType"],
                "Detail": item["detail"],
            }
        )
    return entries


def relay_outbox(records: list[dict[str, Any]], *, bus_name: str, publisher: Publisher) -> int:
    """Publish the outbox records of a stream batch; returns how many events were sent."""
    return publisher.put_entries(outbox_entries(records, bus_name))


class RelaySettings(Settings):
    """The relay only needs to know which bus to publish on."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


@cache
def _settings() -> RelaySettings:
    return load_settings(RelaySettings)


@cache
def _publisher() -> Publisher:
    return seams.publisher(EventBridgePublisher(aws.events()))


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Entry point of every service's relay function (its table stream is the trigger)."""
    bus_name = _settings().event_bus_name
    published = relay_outbox(event.get("Records", []), bus_name=bus_name, publisher=_publisher())
    if published:
        logger.info("outbox relayed", published=published)
    return {"published": published}

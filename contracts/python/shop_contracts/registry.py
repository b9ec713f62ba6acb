"""From detail-type to contract: parse any event of the bus from its EventBridge form into a typed envelope."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shop_contracts.base import DomainEvent
from shop_contracts.compensation import CompensationFailed
from shop_contracts.envelope import Envelope
from shop_contracts.errors import READ_VERSION, LaterEventVersion, MalformedEvent
from shop_contracts.inventory import InventoryFailed, InventoryReleased, InventoryReserved, ProductPriced
from shop_contracts.order import OrderCancelled, OrderConfirmed, OrderCreated
from shop_contracts.payment import PaymentFailed, PaymentProcessed, PaymentRefunded, PaymentVoided

SAGA_EVENTS: dict[str, type[DomainEvent]] = {
    cls.detail_type(): cls
    for cls in (
        OrderCreated,
        PaymentProcessed,
        PaymentFailed,
        InventoryReserved,
        InventoryFailed,
        PaymentRefunded,
        PaymentVoided,
        InventoryReleased,
        OrderConfirmed,
        OrderCancelled,
        CompensationFailed,
    )
}
"""The events of an order's saga (correlation id: the order id): what the projector folds."""

CONTRACTS: dict[str, type[DomainEvent]] = {**SAGA_EVENTS, ProductPriced.detail_type(): ProductPriced}
"""Every event on the bus."""


def parse_event[EventT: DomainEvent](raw: Any, expected: type[EventT]) -> Envelope[EventT]:
    """Parse one EventBridge event that must carry `expected`.

    Raises
    ------
    MalformedEvent
        When the event is not an object, names another detail-type or source, or its detail does not
        match the contract; the message says which field is wrong.
    """
    envelope = parse_any(raw)
    if not isinstance(envelope.data, expected):
        raise MalformedEvent(f"expected detail-type {expected.detail_type()}, got {type(envelope.data).__name__}")
    return envelope  # type: ignore[return-value]


def parse_any(raw: Any) -> Envelope[DomainEvent]:
    """Parse any saga event from its EventBridge form (`source`, `detail-type`, `detail`).

    Raises
    ------
    MalformedEvent
        When the detail-type is unknown, the source is not the one that owns it, or the detail is invalid.
    LaterEventVersion
        When the event is well addressed but of a later eventVersion than these models read.
    """
    if not isinstance(raw, dict):
        raise MalformedEvent("event is not a JSON object")
    detail_type = raw.get("detail-type")
    model = CONTRACTS.get(detail_type) if isinstance(detail_type, str) else None
    if model is None:
        raise MalformedEvent(f"unknown detail-type {detail_type!r}")
    if raw.get("source") not in model.allowed_sources():
        raise MalformedEvent(f"{detail_type} may not come from source {raw.get('source')!r}")
    version = _event_version(raw.get("detail"))
    if version is not None and version > READ_VERSION:
        raise LaterEventVersion(model.detail_type(), version)
    try:
        return Envelope[model].model_validate(raw.get("detail"))  # type: ignore[valid-type]
    except ValidationError as exc:
        raise MalformedEvent(f"{detail_type} detail is invalid: {describe_errors(exc)}") from exc


def _event_version(detail: Any) -> int | None:
    metadata = detail.get("metadata") if isinstance(detail, dict) else None
    version = metadata.get("eventVersion") if isinstance(metadata, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def describe_errors(exc: ValidationError) -> str:
    """One line naming each invalid field and what is wrong with it."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}" for error in exc.errors()
    )

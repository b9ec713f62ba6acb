"""Builds the payment service's adapters from its settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from payment.dal.payment_repository import PaymentRepository
from payment.models.gateway import SimulatedGateway
from payment.models.settings import get_settings
from shared import aws


@cache
def payment_repository() -> PaymentRepository:
    """The repository over the payment table."""
    settings = get_settings()
    return PaymentRepository(aws.dynamodb(), settings.payment_table_name, dedupe=settings.dedupe_events)


@cache
def gateway() -> SimulatedGateway:
    """The simulated gateway with the configured decline rate."""
    return SimulatedGateway(decline_rate=get_settings().decline_rate)

"""Configuration of the payment functions, validated once per execution environment."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from shared.settings import Settings, load_settings


class PaymentSettings(Settings):
    """What every payment function needs."""

    payment_table_name: str = Field(alias="PAYMENT_TABLE_NAME", min_length=1)
    decline_rate: float = Field(default=0.0, alias="PAYMENT_DECLINE_RATE", ge=0.0, le=1.0)
    # How many deliveries a refund gets before it is reported as CompensationFailed (the queue's
    # maxReceiveCount, so the last attempt is also the one that sends the message to the DLQ).
    max_attempts: int = Field(default=3, alias="MAX_RECEIVE_COUNT", ge=1)
    # Test-only: switches every once-only guard off (the inbox, and for payment and inventory the one
    # record per order), so the fault suite's negative control can prove its checker catches it.
    dedupe_events: bool = Field(default=True, alias="DEDUPE_EVENTS")


@cache
def get_settings() -> PaymentSettings:
    """The validated settings; fails fast on the first call if the environment is wrong."""
    return load_settings(PaymentSettings)

"""Configuration of the projector, validated once per execution environment."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from shared.settings import Settings, load_settings


class SagaSettings(Settings):
    """The projector only needs its table."""

    saga_table_name: str = Field(alias="SAGA_TABLE_NAME", min_length=1)


@cache
def get_settings() -> SagaSettings:
    """The validated settings; fails fast on the first call if the environment is wrong."""
    return load_settings(SagaSettings)

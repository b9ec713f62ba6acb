"""Configuration of the projector, validated once per execution environment."""

from pydantic import Field

from shared.settings import Settings


class SagaSettings(Settings):
    """The projector only needs its table."""

    saga_table_name: str = Field(alias="SAGA_TABLE_NAME", min_length=1)

"""The projector's adapters, built from its settings once per execution environment.

Handlers use the one instance, `wiring`; tests forget what it built with `shared.environment.reset()`.
"""

from __future__ import annotations

from functools import cached_property

from saga.dal.saga_repository import AttentionIndex, SagaRepository
from saga.models.settings import SagaSettings
from shared import aws, seams
from shared.environment import Wiring
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable, ReadAhead


class SagaWiring(Wiring):
    """What the projector's functions are wired to."""

    @cached_property
    def saga_repository(self) -> SagaRepository:
        """The repository over the saga table."""
        settings = load_settings(SagaSettings)
        return SagaRepository(ReadAhead(seams.table(DynamoTable(aws.dynamodb(), settings.saga_table_name))))

    @cached_property
    def attention_index(self) -> AttentionIndex:
        """The sparse index of sagas needing attention, on the saga table."""
        settings = load_settings(SagaSettings)
        return AttentionIndex(DynamoTable(aws.dynamodb(), settings.saga_table_name))


wiring = SagaWiring()

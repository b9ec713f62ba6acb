"""Builds the projector's adapters from its settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from saga.dal.saga_repository import AttentionIndex, SagaRepository
from saga.models.settings import SagaSettings
from shared import aws, seams
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable


@cache
def saga_repository() -> SagaRepository:
    """The repository over the saga table."""
    settings = load_settings(SagaSettings)
    return SagaRepository(seams.table(DynamoTable(aws.dynamodb(), settings.saga_table_name)))


@cache
def attention_index() -> AttentionIndex:
    """The sparse index of sagas needing attention, on the saga table."""
    settings = load_settings(SagaSettings)
    return AttentionIndex(DynamoTable(aws.dynamodb(), settings.saga_table_name))

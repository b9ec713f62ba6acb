"""Builds the order service's adapters from each function's settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from order.dal.deadline_scheduler import DeadlineScheduler
from order.dal.order_repository import OrderUnitOfWork
from order.dal.saga_views import SagaViews
from order.models.settings import DeadlineSchedulerSettings, OrderApiSettings, OrderTableSettings
from shared import aws, seams
from shared.payment_tokens import DataKeyTokenCipher, TokenSealer
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable


@cache
def unit_of_work() -> OrderUnitOfWork:
    """The unit of work over the order table."""
    settings = load_settings(OrderTableSettings)
    return OrderUnitOfWork(seams.table(DynamoTable(aws.dynamodb(), settings.order_table_name)))


@cache
def api_settings() -> OrderApiSettings:
    """What the order API needs, validated once."""
    return load_settings(OrderApiSettings)


@cache
def saga_views() -> SagaViews:
    """The projector's views, read only."""
    return SagaViews(DynamoTable(aws.dynamodb(), api_settings().saga_table_name))


@cache
def deadline_scheduler() -> DeadlineScheduler:
    """The scheduler of order deadlines."""
    settings = load_settings(DeadlineSchedulerSettings)
    return DeadlineScheduler(
        client=aws.scheduler(),
        target_arn=settings.deadline_queue_arn,
        role_arn=settings.scheduler_role_arn,
        dead_letter_arn=settings.deadline_dead_letter_queue_arn,
        queue=aws.sqs(),
        queue_url=settings.deadline_queue_url,
    )


@cache
def token_sealer() -> TokenSealer:
    """Seals payment tokens with the key only the payment service can decrypt with."""
    return DataKeyTokenCipher(aws.kms(), api_settings().payment_token_key_arn)

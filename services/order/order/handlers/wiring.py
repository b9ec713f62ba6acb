"""The order service's adapters, built from each function's settings once per execution environment.

Handlers use the one instance, `wiring`; tests forget what it built with `shared.environment.reset()`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from order.dal.deadline_scheduler import DeadlineScheduler
from order.dal.order_repository import OrderUnitOfWork
from order.dal.saga_views import SagaViews
from order.models.settings import DeadlineSchedulerSettings, OrderApiSettings, OrderTableSettings
from shared import aws, seams
from shared.environment import Wiring
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable, ReadAhead

if TYPE_CHECKING:
    from shared.payment_tokens import TokenSealer


class OrderWiring(Wiring):
    """What the order service's functions are wired to."""

    @cached_property
    def unit_of_work(self) -> OrderUnitOfWork:
        """The unit of work over the order table."""
        settings = load_settings(OrderTableSettings)
        return OrderUnitOfWork(ReadAhead(seams.table(DynamoTable(aws.dynamodb(), settings.order_table_name))))

    @cached_property
    def api_settings(self) -> OrderApiSettings:
        """What the order API needs, validated once."""
        return load_settings(OrderApiSettings)

    @cached_property
    def saga_views(self) -> SagaViews:
        """The projector's views, read only."""
        return SagaViews(DynamoTable(aws.dynamodb(), self.api_settings.saga_table_name))

    @cached_property
    def deadline_scheduler(self) -> DeadlineScheduler:
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

    @cached_property
    def token_sealer(self) -> TokenSealer:
        """Seals payment tokens with the key only the payment service can decrypt with."""
        # Imported here: only POST /orders seals a token, and `cryptography` is about 10 ms of every order
        # function's cold start otherwise (its reactions and a GET-only API worker never need it).
        from shared.payment_tokens import DataKeyTokenCipher

        return DataKeyTokenCipher(aws.kms(), self.api_settings.payment_token_key_arn)


wiring = OrderWiring()

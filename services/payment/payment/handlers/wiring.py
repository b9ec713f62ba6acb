"""The payment service's adapters, built from each function's settings once per execution environment.

Handlers use the one instance, `wiring`; tests forget what it built with `shared.environment.reset()`.
"""

from __future__ import annotations

from functools import cached_property

from payment.dal.payment_repository import PaymentUnitOfWork
from payment.models.gateway import NoPaymentProvider, PaymentGateway, SimulatedGateway
from payment.models.settings import GatewaySettings, PaymentTableSettings, TokenKeySettings
from shared import aws, seams
from shared.environment import Wiring
from shared.payment_tokens import DataKeyTokenCipher, TokenOpener
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable, ReadAhead


class PaymentWiring(Wiring):
    """What the payment service's functions are wired to."""

    @cached_property
    def unit_of_work(self) -> PaymentUnitOfWork:
        """The unit of work over the payment table."""
        settings = load_settings(PaymentTableSettings)
        return PaymentUnitOfWork(ReadAhead(seams.table(DynamoTable(aws.dynamodb(), settings.payment_table_name))))

    @cached_property
    def gateway(self) -> PaymentGateway:
        """The simulated gateway where the stack says it is a simulator (`PaymentSimulator=true`), else no
        provider at all: its test tokens must not approve orders on a real shop."""
        settings = load_settings(GatewaySettings)
        port: PaymentGateway = (
            SimulatedGateway(decline_rate=settings.decline_rate) if settings.simulator else NoPaymentProvider()
        )
        wired: PaymentGateway = seams.gateway(port)
        return wired

    @cached_property
    def token_opener(self) -> TokenOpener:
        """Opens the payment tokens sealed for the payment service."""
        return DataKeyTokenCipher(aws.kms(), load_settings(TokenKeySettings).payment_token_key_arn)


wiring = PaymentWiring()

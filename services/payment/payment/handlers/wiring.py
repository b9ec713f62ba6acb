"""Builds the payment service's adapters from each function's settings, once per execution environment."""

from __future__ import annotations

from functools import cache

from payment.dal.payment_repository import PaymentUnitOfWork
from payment.models.gateway import NoPaymentProvider, PaymentGateway, SimulatedGateway
from payment.models.settings import GatewaySettings, PaymentTableSettings, TokenKeySettings
from shared import aws, seams
from shared.payment_tokens import DataKeyTokenCipher, TokenOpener
from shared.settings import load_settings
from shared.storage.dynamodb import DynamoTable


@cache
def unit_of_work() -> PaymentUnitOfWork:
    """The unit of work over the payment table."""
    settings = load_settings(PaymentTableSettings)
    return PaymentUnitOfWork(seams.table(DynamoTable(aws.dynamodb(), settings.payment_table_name)))


@cache
def gateway() -> PaymentGateway:
    """The simulated gateway where the stack says it is a simulator (`PaymentSimulator=true`), else no
    provider at all: its test tokens must not approve orders on a real shop."""
    settings = load_settings(GatewaySettings)
    port: PaymentGateway = (
        SimulatedGateway(decline_rate=settings.decline_rate) if settings.simulator else NoPaymentProvider()
    )
    wired: PaymentGateway = seams.gateway(port)
    return wired


@cache
def token_opener() -> TokenOpener:
    """Opens the payment tokens sealed for the payment service."""
    return DataKeyTokenCipher(aws.kms(), load_settings(TokenKeySettings).payment_token_key_arn)

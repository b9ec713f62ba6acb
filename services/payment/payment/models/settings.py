"""Configuration of the payment functions, composed per function and validated once."""

from pydantic import Field

from shared.settings import Settings


class PaymentTableSettings(Settings):
    """Every payment function writes the payment table."""

    payment_table_name: str = Field(alias="PAYMENT_TABLE_NAME", min_length=1)


class GatewaySettings(Settings):
    """The functions that call the payment gateway: the simulator only where the stack says so."""

    simulator: bool = Field(default=False, alias="PAYMENT_SIMULATOR")
    decline_rate: float = Field(default=0.0, alias="PAYMENT_DECLINE_RATE", ge=0.0, le=1.0)


class TokenKeySettings(Settings):
    """The charging function opens the payment tokens the order API sealed for it."""

    payment_token_key_arn: str = Field(alias="PAYMENT_TOKEN_KEY_ARN", min_length=1)

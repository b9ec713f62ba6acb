"""Configuration of the order functions, composed per function from what each one uses, validated once."""

from pydantic import Field

from shared.settings import Settings


class OrderTableSettings(Settings):
    """Every order function but the deadline scheduler writes the order table."""

    order_table_name: str = Field(alias="ORDER_TABLE_NAME", min_length=1)


class OrderApiSettings(OrderTableSettings):
    """The API also shows the projector's view, sets each new order's deadline and seals its payment token."""

    saga_table_name: str = Field(alias="SAGA_TABLE_NAME", min_length=1)
    deadline_seconds: int = Field(alias="ORDER_DEADLINE_SECONDS", ge=1)
    # The key that seals payment tokens for the payment service (the API may only encrypt with it).
    payment_token_key_arn: str = Field(alias="PAYMENT_TOKEN_KEY_ARN", min_length=1)


class DeadlineSchedulerSettings(Settings):
    """The function that schedules deadlines: where they go, the role that sends them, and where a
    deadline the schedule could not deliver is kept."""

    deadline_queue_arn: str = Field(alias="DEADLINE_QUEUE_ARN", min_length=1)
    deadline_queue_url: str = Field(alias="DEADLINE_QUEUE_URL", min_length=1)
    deadline_dead_letter_queue_arn: str = Field(alias="DEADLINE_DEAD_LETTER_QUEUE_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)

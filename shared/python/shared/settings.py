"""Reads a function's configuration from its environment once, validated by a pydantic model."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import ConfigurationError


class Settings(BaseModel):
    """Base for each service's settings: environment variable names are the field aliases."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


def load_settings[SettingsT: Settings](model: type[SettingsT]) -> SettingsT:
    """Validate the environment against `model`.

    Raises
    ------
    ConfigurationError
        Naming each missing or invalid variable.
    """
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        problems = ", ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors())
        raise ConfigurationError(f"{model.__name__} is misconfigured: {problems}") from exc


class ConsumerSettings(Settings):
    """What every SQS consumer needs beside its service's settings."""

    dead_letter_queue_url: str | None = Field(default=None, alias="DEAD_LETTER_QUEUE_URL", min_length=1)
    # The queue's maxReceiveCount: the delivery on which a failing record is given up.
    max_receive_count: int = Field(default=3, alias="MAX_RECEIVE_COUNT", ge=1)


@cache
def consumer_settings() -> ConsumerSettings:
    """The consumer settings of this function, validated once."""
    return load_settings(ConsumerSettings)

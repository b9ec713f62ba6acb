"""Reads a function's configuration from its environment once, validated by a pydantic model."""

import os

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import ConfigurationError


class Settings(BaseModel):
    """Base for each service's settings: environment variable names are the field aliases."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


def load_settings[SettingsT: Settings](model: type[SettingsT]) -> SettingsT:
    """Validate the environment against `model`; a variable set to the empty string counts as unset.

    Raises
    ------
    ConfigurationError
        Naming each missing or invalid variable.
    """
    # An empty value is no value: `sam local invoke` passes what it cannot resolve in the template (an
    # `!If [..., !Ref AWS::NoValue, ...]`) as an empty string, where Lambda would pass nothing.
    given = {name: value for name, value in os.environ.items() if value != ""}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        problems = ", ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors())
        raise ConfigurationError(f"{model.__name__} is misconfigured: {problems}") from exc

"""Configuration is read once from the environment; an empty value counts as none (as `sam local` passes
the template's unresolved `!If [..., !Ref AWS::NoValue, ...]` values)."""

from __future__ import annotations

import pytest

from shared.errors import ConfigurationError
from shared.seams import SeamSettings
from shared.settings import load_settings


def test_empty_values_are_no_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAULT_INJECTION", "ONCE_ONLY_GUARDS", "TEST_SEAMS_TABLE_NAME"):
        monkeypatch.setenv(name, "")

    settings = load_settings(SeamSettings)

    assert (settings.fault_injection, settings.once_only_guards, settings.plan_table_name) == (False, True, None)


def test_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_INJECTION", "maybe")

    with pytest.raises(ConfigurationError, match="FAULT_INJECTION"):
        load_settings(SeamSettings)

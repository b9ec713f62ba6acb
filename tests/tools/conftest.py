"""The workshop's tests use the component tier's moto fixtures where they need AWS (the duplicator's bus)."""

from tests.component.conftest import bus, tables

__all__ = ["bus", "tables"]

"""The order service's component tests start with PROD-001 in its catalogue copy."""

from __future__ import annotations

import pytest

from tests.component.conftest import Tables


@pytest.fixture(autouse=True)
def catalogue(tables: Tables) -> None:
    """PROD-001 is known to the order service's catalogue copy, at the price VALID's total expects."""
    tables.price({"PROD-001": "1299.99"})

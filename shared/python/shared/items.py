"""Converting DynamoDB items back to plain JSON-like values (DynamoDB returns every number as Decimal)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """`value` with every whole Decimal made an int, recursively; money is stored as strings, so no
    fractional number is expected, and one would stay a Decimal rather than silently become a float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(inner) for inner in value]
    return value

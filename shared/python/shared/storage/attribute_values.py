"""Items in DynamoDB's typed form (`{"S": "..."}`, `{"N": "12"}`) and back, as the DynamoDB adapter and
the relay's stream reader need them.

What boto3's `TypeSerializer`/`TypeDeserializer` do, for the values this project stores, without boto3:
the functions call DynamoDB through botocore's client, and importing boto3 for its resource layer would
load s3transfer, concurrent.futures and multiprocessing into every cold start (docs/decisions.md, "Cold
starts"). Read back, a whole number is an int and any other number a Decimal, and a set is a list, as
`shared.items.plain` makes them; a float is refused, as boto3 refuses it (money is stored as strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shared.items import plain

Typed = dict[str, Any]


def typed(value: Any) -> Typed:
    """`value` as a DynamoDB attribute value.

    Raises
    ------
    TypeError
        For a float (use Decimal, or a string as money is stored), or a type DynamoDB cannot hold.
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: a bool is an int too
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        raise TypeError("DynamoDB numbers are written as int or Decimal, not float")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, set | frozenset):
        return _typed_set(value)
    if isinstance(value, Mapping):
        return {"M": {str(name): typed(inner) for name, inner in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [typed(inner) for inner in value]}
    raise TypeError(f"DynamoDB cannot store a {type(value).__name__}")


def typed_item(item: Mapping[str, Any]) -> dict[str, Typed]:
    """An item (or a key, or expression values) with each attribute in typed form."""
    return {name: typed(value) for name, value in item.items()}


def untyped(attribute: Mapping[str, Any]) -> Any:
    """The plain value of a DynamoDB attribute value (`shared.items.plain`'s numbers and lists)."""
    return plain(_value(attribute))


def untyped_item(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An item read from DynamoDB, in plain values."""
    return {name: untyped(value) for name, value in raw.items()}


def _typed_set(values: set[Any] | frozenset[Any]) -> Typed:
    if all(isinstance(value, str) for value in values):
        return {"SS": sorted(values)}
    if all(isinstance(value, int | Decimal) and not isinstance(value, bool) for value in values):
        return {"NS": [str(value) for value in values]}
    if all(isinstance(value, bytes | bytearray) for value in values):
        return {"BS": [bytes(value) for value in values]}
    raise TypeError("a DynamoDB set holds strings, numbers or bytes, all of one kind")


def _value(attribute: Mapping[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    match kind:
        case "S" | "B" | "BOOL":
            return value
        case "N":
            return Decimal(value)
        case "NULL":
            return None
        case "SS" | "BS":
            return list(value)
        case "NS":
            return [Decimal(number) for number in value]
        case "L":
            return [_value(inner) for inner in value]
        case "M":
            return {name: _value(inner) for name, inner in value.items()}
    raise TypeError(f"unknown DynamoDB attribute type {kind!r}")

"""DynamoDB's typed form and back, as botocore's client needs it, against what boto3's serializer writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from shared.items import plain
from shared.storage.attribute_values import typed, typed_item, untyped, untyped_item

ITEM: dict[str, Any] = {
    "pk": "ORDER#o-1",
    "version": 3,
    "total": "2599.98",
    "ratio": Decimal("0.25"),
    "paid": True,
    "note": None,
    "blob": b"\x00\x01",
    "applied": frozenset({"e-2", "e-1"}),
    "view": {"timeline": [{"type": "OrderCreated", "at": 1}], "steps": {}},
    "lines": [["PROD-001", 2]],
}


def test_values_are_typed_as_boto3_types_them() -> None:
    ours, theirs = typed_item(ITEM), {name: TypeSerializer().serialize(value) for name, value in ITEM.items()}
    # A set is unordered on the wire: compare its members.
    assert sorted(ours.pop("applied")["SS"]) == sorted(theirs.pop("applied")["SS"])
    assert ours == theirs


def test_read_back_they_are_the_plain_values_the_services_read() -> None:
    wire = typed_item(ITEM)
    expected = plain({name: TypeDeserializer().deserialize(cast(Any, value)) for name, value in wire.items()})

    read = untyped_item(wire)

    assert sorted(read.pop("applied")) == sorted(expected.pop("applied"))
    assert read == expected
    assert read["version"] == 3 and isinstance(read["version"], int)
    assert read["ratio"] == Decimal("0.25")
    assert read["lines"] == [["PROD-001", 2]]


@pytest.mark.parametrize("value", [1.5, {"nested": 0.1}, object(), {1, "a"}])
def test_what_dynamodb_cannot_hold_exactly_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        typed(value)


def test_number_sets_and_byte_sets_round_trip() -> None:
    assert sorted(untyped(typed({3, 1}))) == [1, 3]
    assert untyped(typed(frozenset({b"x"}))) == [b"x"]

"""The compatibility gate (tools/codegen/schemas.py): the committed schemas are the published contract, and a
model that breaks one fails CI unless the change comes as a new eventVersion."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar, Literal

import pytest

from shop_contracts.base import DomainEvent, OrderId
from shop_contracts.registry import CONTRACTS
from tools.codegen import schemas


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of docs/schemas/ for the gate to guard (and, for a compatible change, rewrite)."""
    copy = tmp_path / "schemas"
    shutil.copytree(schemas.SCHEMAS, copy)
    monkeypatch.setattr(schemas, "SCHEMAS", copy)
    return copy


def gate(planted: type[DomainEvent], *argv: str) -> int:
    return schemas.main(list(argv), contracts={**CONTRACTS, planted.__name__: planted})


def test_a_removed_field_and_a_new_required_one_fail_the_gate(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class OrderCancelled(DomainEvent):  # the planted breaking change: reason gone, refundId required
        service: ClassVar[str] = "order"
        order_id: OrderId
        refund_id: str

    before = (published / "OrderCancelled.v1.schema.json").read_text()

    assert gate(OrderCancelled, "--check") == 1
    assert gate(OrderCancelled) == 1  # nor does regenerating publish it

    errors = capsys.readouterr().err
    assert "OrderCancelled: data.reason: removed" in errors
    assert "OrderCancelled: data.refundId: new and required" in errors
    assert "new eventVersion" in errors
    assert (published / "OrderCancelled.v1.schema.json").read_text() == before


def test_a_retyped_field_fails_the_gate(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class OrderCancelled(DomainEvent):  # the reason widened from its four values to any text
        service: ClassVar[str] = "order"
        order_id: OrderId
        reason: str

    assert gate(OrderCancelled, "--check") == 1
    assert "OrderCancelled: data.reason: retyped" in capsys.readouterr().err


def test_a_new_allowed_value_fails_the_gate_because_old_readers_refuse_it(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class OrderCancelled(DomainEvent):
        service: ClassVar[str] = "order"
        order_id: OrderId
        reason: Literal["payment_declined", "out_of_stock", "timeout", "customer_request", "fraud"]

    assert gate(OrderCancelled, "--check") == 1
    assert "data.reason: retyped" in capsys.readouterr().err


def test_an_optional_new_field_is_compatible_stale_until_regenerated(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class OrderCancelled(DomainEvent):
        service: ClassVar[str] = "order"
        order_id: OrderId
        reason: Literal["payment_declined", "out_of_stock", "timeout", "customer_request"]
        note: str | None = None

    assert gate(OrderCancelled, "--check") == 1  # stale: the schema must be regenerated and reviewed
    assert "incompatible" not in capsys.readouterr().err
    assert gate(OrderCancelled) == 0
    assert "note" in (published / "OrderCancelled.v1.schema.json").read_text()
    assert gate(OrderCancelled, "--check") == 0


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_every_published_schema_is_compatible_with_itself(name: str) -> None:
    # The gate itself cannot report a change where there is none (it could otherwise pass by failing).
    written = schemas.schema_of(name, CONTRACTS[name])
    read = schemas.schema_of(name, CONTRACTS[name], mode="validation")
    assert schemas.breaking_changes(written, written, read) == []

"""In-memory fakes of the ports that are not tables: the payment gateway, the token cipher and the deadline
scheduler."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from payment.models.gateway import Decision, SimulatedGateway
from shared.payment_tokens import PaymentTokenUnreadable


@dataclass
class CountingGateway:
    """The simulated gateway's answers, with a ledger like a real provider's: every call is counted by
    idempotency key, and money moves once per key."""

    decline_rate: float = 0.0
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    charged: dict[str, Decimal] = field(default_factory=dict)
    refunded: dict[str, Decimal] = field(default_factory=dict)

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Decision:
        """Charge once per key; a repeated key gets the same answer and moves nothing."""
        self.calls["charge", idempotency_key] += 1
        decision = SimulatedGateway(self.decline_rate).charge(
            idempotency_key=idempotency_key, token=token, amount=amount
        )
        if decision.approved:
            self.charged.setdefault(idempotency_key, amount)
        return decision

    def refund(self, *, idempotency_key: str, amount: Decimal) -> None:
        """Refund once per key (raises `RefundRejected` for a charge made with `tok_refund_fail`)."""
        self.calls["refund", idempotency_key] += 1
        SimulatedGateway(self.decline_rate).refund(idempotency_key=idempotency_key, amount=amount)
        self.refunded.setdefault(idempotency_key, amount)

    def call_count(self, kind: str) -> int:
        """How many calls of a kind (`charge`, `refund`) were made, duplicates included."""
        return sum(n for (k, _), n in self.calls.items() if k == kind)


@dataclass(frozen=True)
class FakeTokenCipher:
    """Seals as the KMS cipher does in the way that matters to the logic: the sealed form is bound to its
    order and opens only for that order. (Base64 of JSON: a fake, not a secret.)"""

    def seal(self, token: str, *, order_id: str) -> str:
        """The token sealed for `order_id`."""
        return base64.b64encode(json.dumps({"fake": True, "order": order_id, "token": token}).encode()).decode()

    def open(self, sealed: str, *, order_id: str) -> str:
        """The token, if it was sealed for `order_id`; else PaymentTokenUnreadable."""
        try:
            content = json.loads(base64.b64decode(sealed, validate=True))
        except ValueError:
            raise PaymentTokenUnreadable("not sealed by this cipher") from None
        if not isinstance(content, dict) or content.get("order") != order_id:
            raise PaymentTokenUnreadable(f"sealed for another order than {order_id}")
        return str(content["token"])


TOKENS = FakeTokenCipher()


@dataclass
class FakeScheduler:
    """Remembers one deadline per order, as the real schedule names do."""

    deadlines: dict[str, datetime] = field(default_factory=dict)
    fired: list[str] = field(default_factory=list)

    def fire_now(self, order_id: str) -> None:
        """Note a deadline sent at once."""
        self.fired.append(order_id)

    def schedule(self, order_id: str, at: datetime) -> bool:
        """Schedule once; False when the order already has one."""
        if order_id in self.deadlines:
            return False
        self.deadlines[order_id] = at
        return True


@dataclass
class RecordedMeasures:
    """The metrics port, recording what logic measured: (name, value, dimension)."""

    seen: list[tuple[str, float, tuple[str, str] | None]] = field(default_factory=list)

    def count(self, name: str, *, by: tuple[str, str] | None = None) -> None:
        self.seen.append((name, 1, by))

    def seconds(self, name: str, value: float, *, by: tuple[str, str] | None = None) -> None:
        self.seen.append((name, value, by))

    def gauge(self, name: str, value: float) -> None:
        self.seen.append((name, value, None))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.seen]

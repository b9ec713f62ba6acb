"""An order still pending at its deadline is cancelled as a timeout, by its one-time schedule."""

from __future__ import annotations

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener
from tests.e2e.saga import available, money, settle

# The local config sets OrderDeadlineSeconds=60; the schedule fires within about 10 s of it, and an
# order not final 60 s past its deadline counts as lost.
DEADLINE_PLUS_SLACK = 60 + 60


def test_a_stalled_order_times_out_and_holds_nothing(
    api: ApiClient, bus: BusListener, stalled_order: tuple[str, str]
) -> None:
    order_id, product = stalled_order  # placed when the session started (tests/e2e/conftest.py)

    order = settle(api, bus, order_id, timeout=DEADLINE_PLUS_SLACK)

    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "timeout")
    assert order["saga"]["status"] == "CANCELLED" and order["saga"]["failureReason"] == "timeout"
    # Its payment was still pending: the cancel voids it, and nothing was taken.
    assert bus.types(order_id) == ["OrderCancelled", "OrderCreated", "PaymentVoided"]
    assert available(api, product) == 5
    assert money(bus, order_id) == 0

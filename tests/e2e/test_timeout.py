"""An order still pending at its deadline is cancelled as a timeout, by its one-time schedule."""

from __future__ import annotations

from collections.abc import Callable

from scripts.stack import ApiClient
from tests.e2e.conftest import BusListener
from tests.e2e.saga import available, money, place, settle

# The local config sets OrderDeadlineSeconds=60; the schedule fires within about 10 s of it, and an
# order not final 60 s past its deadline counts as lost.
DEADLINE_PLUS_SLACK = 60 + 60


def test_a_stalled_order_times_out_and_holds_nothing(
    api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    product = new_product(5)

    order_id = place(api, [(product, 1)], "10.00", token="tok_pending")
    order = settle(api, bus, order_id, timeout=DEADLINE_PLUS_SLACK)

    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "timeout")
    assert order["saga"]["status"] == "CANCELLED" and order["saga"]["failureReason"] == "timeout"
    assert bus.types(order_id) == ["OrderCancelled", "OrderCreated"]
    assert available(api, product) == 5
    assert money(bus, order_id) == 0

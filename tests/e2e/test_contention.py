"""More concurrent orders for one product than its stock: exactly the stock is sold, the rest is undone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener
from tests.e2e.saga import available, money, place, settle

STOCK = 25
ORDERS = 60


def test_sixty_orders_for_twenty_five_units(api: ApiClient, bus: BusListener, new_product: Callable[..., str]) -> None:
    product = new_product(STOCK, "5.00")

    with ThreadPoolExecutor(max_workers=3) as pool:
        order_ids = list(pool.map(lambda _: place(api, [(product, 1)], "5.00"), range(ORDERS)))
    finals = {order_id: settle(api, bus, order_id, timeout=240) for order_id in order_ids}

    outcomes = Counter((o["status"], o["cancellationReason"]) for o in finals.values())
    assert outcomes == {("CONFIRMED", None): STOCK, ("CANCELLED", "out_of_stock"): ORDERS - STOCK}
    assert available(api, product) == 0
    for order_id, order in finals.items():
        expected = order["totalAmount"] if order["status"] == "CONFIRMED" else "0"
        assert money(bus, order_id) == type(money(bus, order_id))(expected), order_id
        assert bus.types(order_id).count("PaymentProcessed") == 1

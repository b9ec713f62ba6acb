"""The fault suite's duplicator on moto: every copy it counts reaches the bus, late ones from a queue ordered
by when they are due, and copies still waiting when the run ends are dropped, not waited for."""

from __future__ import annotations

import random
import time

from tests.component.conftest import CapturedBus
from tests.support.faults.injectors import Duplicator, Injected

EVENT = {"source": "shop.order", "detail-type": "OrderConfirmed", "detail": {"data": {"orderId": "o-1"}}}


def test_every_counted_copy_reaches_the_bus(bus: CapturedBus) -> None:
    injected = Injected()
    duplicator = Duplicator("test-bus", injected, random.Random(3), late=(0.01, 0.05))
    for _ in range(40):
        duplicator(EVENT)
    time.sleep(0.3)  # past every copy's due time
    duplicator.close()

    sent = injected.counts["duplicate_concurrent"] + injected.counts["duplicate_late"]
    assert injected.counts["duplicate_late"] > 0
    assert len(bus.received()) == sent


def test_closing_drops_late_copies_not_yet_due_and_does_not_count_them(bus: CapturedBus) -> None:
    injected = Injected()
    duplicator = Duplicator("test-bus", injected, random.Random(3), late=(60, 120))
    for _ in range(40):
        duplicator(EVENT)

    started = time.monotonic()
    duplicator.close()

    assert time.monotonic() - started < 5  # not a minute per late copy
    assert injected.counts["duplicate_late"] == 0
    assert len(bus.received()) == injected.counts["duplicate_concurrent"] > 0

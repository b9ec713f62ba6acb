"""Count the sagas that need an operator: stuck (still open past their deadline plus slack) and failed
(a compensation that could not complete); emits no event, two gauges (StuckSagas, FailedSagas) that
the template's alarms watch.

Triggered every minute by a schedule. Reads only the projector's sparse index, so it costs one query per
state however many sagas are settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from saga.dal.saga_repository import AttentionIndex
from shared.metrics import Measures

# An open saga this long past its deadline is stuck: the deadline's schedule, the sweeper and the
# compensations have all had their turn (the sweeper runs every minute for orders a minute late).
STUCK_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Watch:
    """What one look at the index found."""

    stuck: int
    failed: int


def watch_sagas(index: AttentionIndex, *, now: datetime, measures: Measures) -> Watch:
    """Count stuck and failed sagas and report them as gauges."""
    stuck = len(index.waiting_since_before("OPEN", (now - STUCK_AFTER).isoformat()))
    failed = len(index.waiting_since_before("FAILED", now.isoformat()))
    measures.gauge("StuckSagas", stuck)
    measures.gauge("FailedSagas", failed)
    return Watch(stuck=stuck, failed=failed)

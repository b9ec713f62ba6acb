"""The saga watch: every minute, how many sagas are stuck and how many failed (gauges for the alarms).

Triggered by a schedule (rate 1 minute); emits no event, the StuckSagas and FailedSagas metrics. An
operator lists them with `shopctl sagas stuck` and `shopctl sagas failed`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from saga.handlers.wiring import wiring
from saga.logic.watch_sagas import watch_sagas
from shared.metrics import measures
from shared.observability import logger, tracer
from shop_contracts.envelope import utc_now


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Count and report."""
    found = watch_sagas(wiring.attention_index, now=utc_now(), measures=measures)
    measures.flush()
    if found.stuck or found.failed:
        logger.warning("sagas need attention", stuck=found.stuck, failed=found.failed)
    return {"stuck": found.stuck, "failed": found.failed}

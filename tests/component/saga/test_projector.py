"""The projector's handler on moto: every event recorded once, in any order, with the view beside them."""

from __future__ import annotations

import random

from aws_lambda_powertools.utilities.typing import LambdaContext

from saga.handlers import on_saga_event
from saga.logic.fold import saga_view, seen_event
from tests.component.conftest import Tables
from tests.support.builders import sqs_event
from tests.support.sagas import CANCELLED_OOS, CHARGED, CREATED, REFUNDED, SHORT


def test_the_handler_is_idempotent_and_commutative(tables: Tables, context: LambdaContext) -> None:
    events = [CREATED, CHARGED, SHORT, REFUNDED, CANCELLED_OOS]
    shuffled = events + events[:3]
    random.Random(7).shuffle(shuffled)

    for event in shuffled:
        response = on_saga_event.lambda_handler(sqs_event(event), context)
        assert response == {"batchItemFailures": []}

    item = tables.saga.item("SAGA#o-1")
    assert item is not None
    assert item["view"] == saga_view([seen_event(event) for event in events]).to_wire()
    assert int(item["version"]) == len(events)

"""blocks/forward.yaml on the local cloud: deployed beside the shop as its template is (the shop deploys it when
ForwardToEventBusArn is set), it sends every shop event to another bus, through its own role; a team
subscribed on that bus sees a real order's saga there."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import place, settle

BLOCK = Path(__file__).resolve().parents[2] / "blocks" / "forward.yaml"


@pytest.fixture
def other_bus() -> Iterator[str]:
    """A bus of another team's, here in the same local account (its policy then admits the shop)."""
    events = boto3.client("events")
    name = f"e2e-other-{uuid.uuid4().hex[:8]}"
    arn = events.create_event_bus(Name=name)["EventBusArn"]
    yield arn
    events.delete_event_bus(Name=name)


@pytest.fixture
def forwarding(outputs: dict[str, str], other_bus: str) -> Iterator[dict[str, str]]:
    """The block deployed as a stack of its own, forwarding the shop's bus to `other_bus`."""
    cloudformation = boto3.client("cloudformation")
    name = f"e2e-forward-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=BLOCK.read_text(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "EventBusName", "ParameterValue": outputs["EventBusName"]},
            {"ParameterKey": "TargetEventBusArn", "ParameterValue": other_bus},
            {"ParameterKey": "AlarmTopicArn", "ParameterValue": outputs["AlarmTopicArn"]},
        ],
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 2})
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    yield {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 2})


def test_a_team_on_another_bus_sees_every_event_of_an_order(
    api: ApiClient,
    bus: BusListener,
    new_product: Callable[..., str],
    other_bus: str,
    forwarding: dict[str, str],
) -> None:
    assert forwarding["DeadLetterQueueUrl"]
    elsewhere = BusListener(other_bus.rsplit("/", 1)[-1], prefix="e2e-elsewhere")
    try:
        order_id = place(api, [(new_product(5), 1)], "10.00")
        assert settle(api, bus, order_id)["status"] == "CONFIRMED"
        seen_here = bus.types(order_id)
        wait_for(
            lambda: elsewhere.types(order_id) if elsewhere.types(order_id) == seen_here else None,
            timeout=30,
            what="the other bus to see the order's events",
        )
    finally:
        elsewhere.close()
    assert "OrderConfirmed" in seen_here

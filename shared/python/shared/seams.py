"""Test seams: the one place where a test stack's wiring may wrap a port with fault injection, or drop
the once-only guards for a negative control.

Each service's wiring passes its ports through here once, when it builds them. A production stack sets
none of the switches (the template's Rules refuse them unless `Local=true`, and only a test stack has
the plan table and the grant to read it), so every function here returns the port it was given and the
test code under `shared.testing` is never imported.
"""

from typing import Any

from pydantic import Field

from shared.environment import once
from shared.publisher import Publisher
from shared.settings import Settings, load_settings
from shared.storage import Table


class SeamSettings(Settings):
    """Set only on test stacks (template parameters `FaultInjection` and `OnceOnlyGuards`)."""

    fault_injection: bool = Field(default=False, alias="FAULT_INJECTION")
    once_only_guards: bool = Field(default=True, alias="ONCE_ONLY_GUARDS")
    plan_table_name: str | None = Field(default=None, alias="TEST_SEAMS_TABLE_NAME", min_length=1)
    function_name: str = Field(default="", alias="AWS_LAMBDA_FUNCTION_NAME")


@once
def seam_settings() -> SeamSettings:
    """The switches of this function, validated once."""
    return load_settings(SeamSettings)


def table(port: Table) -> Table:
    """The service's table, as this stack wants it: as it is in production."""
    settings = seam_settings()
    if not settings.once_only_guards:
        from shared.testing.guards import UnguardedTable

        port = UnguardedTable(port)
    if settings.fault_injection and settings.plan_table_name:
        from shared.testing.faults import FaultPlan, OutageTable

        port = OutageTable(port, FaultPlan(settings.plan_table_name, settings.function_name))
    return port


def events_client(client: Any) -> Any:
    """The relay's EventBridge client, as this stack wants it: as it is in production."""
    settings = seam_settings()
    if settings.fault_injection and settings.plan_table_name:
        from shared.testing.faults import FaultPlan, PartlyFailingEvents

        return PartlyFailingEvents(client, FaultPlan(settings.plan_table_name, settings.function_name))
    return client


def publisher(port: Publisher) -> Publisher:
    """The relay's publisher, as this stack wants it: as it is in production."""
    settings = seam_settings()
    if settings.fault_injection and settings.plan_table_name:
        from shared.testing.faults import CrashingPublisher, FaultPlan

        return CrashingPublisher(port, FaultPlan(settings.plan_table_name, settings.function_name))
    return port


def gateway(port: Any) -> Any:
    """The payment service's gateway, as this stack wants it: as it is in production."""
    settings = seam_settings()
    if settings.fault_injection and settings.plan_table_name:
        from shared.testing.faults import FaultPlan, LedgerGateway

        return LedgerGateway(port, FaultPlan(settings.plan_table_name, settings.function_name))
    return port

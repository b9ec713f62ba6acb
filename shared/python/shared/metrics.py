"""Business and flow metrics: a port the logic measures through, and its adapter that writes CloudWatch
embedded metric format (EMF) lines with Powertools Metrics, in the namespace `shop` (the dashboard and
alarms in template.yaml name it) with the service as a dimension (POWERTOOLS_SERVICE_NAME).

What is measured, and where (each counted once, where it happens exactly once):
- the projector, per event it records for the first time: `OrdersPlaced`, `OrdersConfirmed`,
  `OrdersCancelled` (by `reason`), `CompensationFailures` (by `step`), and `SagaDuration` (seconds from
  OrderCreated to OrderConfirmed or OrderCancelled, by `outcome`) once both ends are known;
- each relay: `OutboxAge`, seconds from the commit of a row to PutEvents accepting it;
- every consumer: `ConsumerLag`, seconds from an event's occurrence to its processing;
- the saga watch, every minute: `StuckSagas` and `FailedSagas` (gauges, from the projector's index).
"""

from __future__ import annotations

from typing import Protocol

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "shop"
metrics = Metrics(namespace=NAMESPACE)


class Measures(Protocol):
    """Where logic reports what happened, as counts and durations."""

    def count(self, name: str, *, by: tuple[str, str] | None = None) -> None:
        """One more of `name`, optionally under one dimension `(name, value)`."""

    def seconds(self, name: str, value: float, *, by: tuple[str, str] | None = None) -> None:
        """A duration of `name` in seconds."""

    def gauge(self, name: str, value: float) -> None:
        """How many of `name` there are now."""


class EmbeddedMetrics:
    """Measures as EMF lines; `flush` writes what one invocation measured."""

    def count(self, name: str, *, by: tuple[str, str] | None = None) -> None:
        self._add(name, MetricUnit.Count, 1, by)

    def seconds(self, name: str, value: float, *, by: tuple[str, str] | None = None) -> None:
        self._add(name, MetricUnit.Seconds, max(0.0, value), by)

    def gauge(self, name: str, value: float) -> None:
        self._add(name, MetricUnit.Count, value, None)

    @staticmethod
    def _add(name: str, unit: MetricUnit, value: float, by: tuple[str, str] | None) -> None:
        if by is None:
            metrics.add_metric(name=name, unit=unit, value=value)
            return
        # A dimension of its own: written at once as one EMF line, not mixed into the invocation's set.
        with single_metric(
            name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=metrics.default_dimensions
        ) as one:
            one.add_dimension(name=by[0], value=by[1])

    @staticmethod
    def flush() -> None:
        """Write the invocation's metrics, if it measured any."""
        if metrics.metric_set:
            metrics.flush_metrics()


measures = EmbeddedMetrics()

"""The cost of one order at AWS list prices, from what the benchmark counted on the local cloud.

Prices: AWS list prices for us-east-1 (N. Virginia), on-demand, without free tiers, as published on the
services' pricing pages in 2025 (the last time they were read for this project); `PRICES_AS_OF` names
that date and docs/benchmarks.md repeats it. Check them before you rely on a figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from tools.bench.accounting import Usage

REGION = "us-east-1"
PRICES_AS_OF = "as published in 2025; DynamoDB on-demand after its November 2024 price cut"

# US dollars per unit.
PRICES: dict[str, tuple[float, str]] = {
    "api_request": (3.50e-6, "API Gateway REST API, per request (first 333 million a month)"),
    "lambda_request": (0.20e-6, "Lambda, per request"),
    "lambda_gb_second": (0.0000166667, "Lambda x86_64, per GB-second"),
    "dynamodb_write_unit": (0.625e-6, "DynamoDB on-demand, per write request unit"),
    "dynamodb_read_unit": (0.125e-6, "DynamoDB on-demand, per read request unit"),
    "event_entry": (1.00e-6, "EventBridge, per custom event entry put (64 KB chunk)"),
    "sqs_request": (0.40e-6, "SQS standard queue, per request (64 KB chunk)"),
    "kms_request": (0.03e-4, "KMS, per symmetric cryptographic request"),
    "schedule_invocation": (1.00e-6, "EventBridge Scheduler, per scheduled invocation (API calls are not billed)"),
    "log_gigabyte": (0.50, "CloudWatch Logs, per GB ingested (standard class)"),
    "xray_trace": (5.00e-6, "X-Ray, per trace recorded"),
}
# X-Ray's default sampling rule records the first request each second and 5% of the rest: at the
# volumes that matter, 5% of orders.
XRAY_SAMPLED_SHARE = 0.05


@dataclass(frozen=True)
class CostLine:
    """One billed quantity of one order."""

    item: str
    per_order: float  # units per order
    unit_price: float  # USD per unit
    note: str

    @property
    def micro_dollars(self) -> float:
        """This line's cost of one order, in millionths of a dollar."""
        return self.per_order * self.unit_price * 1e6


def sqs_deliveries(events_put: Counter[str], fanout: dict[str, int]) -> float:
    """Messages the bus's rules send to consumer queues: each event accepted times its subscribers."""
    return float(sum(count * fanout.get(detail_type, 0) for detail_type, count in events_put.items()))


def order_cost(
    use: Usage,
    *,
    orders: int,
    fanout: dict[str, int],
    queue_fed: set[str],
    memory_mb: dict[str, int],
    log_bytes: float,
) -> list[CostLine]:
    """The cost lines of one order: everything counted in the window divided by the orders placed in it.

    `fanout` is the number of subscriptions per detail type, `queue_fed` the functions an SQS queue
    invokes (each invocation is one ReceiveMessage and one DeleteMessageBatch for Lambda's poller),
    `memory_mb` each function's memory size.
    """
    if orders <= 0:
        raise ValueError("no orders were counted: nothing to divide by")
    schedules = use.calls.get("scheduler.CreateSchedule", 0)
    deliveries = sqs_deliveries(use.events_put, fanout) + schedules
    poller_requests = 2 * sum(f.invocations for name, f in use.functions.items() if name in queue_fed)
    own_sqs = sum(count for call, count in use.calls.items() if call.startswith("sqs."))
    gb_seconds = sum(f.billed_ms / 1000 * memory_mb.get(name, 128) / 1024 for name, f in use.functions.items())
    kms = sum(count for call, count in use.calls.items() if call.startswith("kms."))

    def line(item: str, total: float, note: str) -> CostLine:
        return CostLine(item, total / orders, PRICES[item][0], note)

    return [
        line("api_request", orders, "POST /orders"),
        line("lambda_request", use.invocations(), "every invocation of every function"),
        line("lambda_gb_second", gb_seconds, "handler time, rounded up per invocation, at each function's memory"),
        line("dynamodb_write_unit", use.write_units, "as DynamoDB reported them (transactions count double)"),
        line("dynamodb_read_unit", use.read_units, "as DynamoDB reported them"),
        line("event_entry", sum(use.events_put.values()), "PutEvents entries accepted"),
        line(
            "sqs_request",
            deliveries + poller_requests + own_sqs,
            f"{deliveries / orders:.1f} sends by rules and schedules, {poller_requests / orders:.1f} receives and "
            f"deletes by Lambda's poller, {own_sqs / orders:.2f} by the functions",
        ),
        line("kms_request", kms, "data keys made at the API and decrypted at payment (cached per worker)"),
        line("schedule_invocation", schedules, "one deadline schedule per order, fired once"),
        line("log_gigabyte", log_bytes / 1e9, "log bytes the stack's log groups stored"),
        line("xray_trace", orders * XRAY_SAMPLED_SHARE, f"{XRAY_SAMPLED_SHARE:.0%} of orders sampled"),
    ]


def total_micro_dollars(lines: list[CostLine]) -> float:
    """The cost of one order in millionths of a dollar."""
    return sum(line.micro_dollars for line in lines)


def as_json(lines: list[CostLine]) -> list[dict[str, Any]]:
    """The cost lines as plain data for the result file."""
    return [
        {
            "item": line.item,
            "perOrder": round(line.per_order, 6),
            "unitPriceUsd": line.unit_price,
            "microDollars": round(line.micro_dollars, 3),
            "note": line.note,
        }
        for line in lines
    ]

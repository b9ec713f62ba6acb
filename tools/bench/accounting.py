"""What the functions did, from the accounting file the benchmark's local cloud writes
(tools/bench/hook/sitecustomize.py): invocations, batch sizes, handler time and CPU (and of it the AWS
calls') per function, and every AWS call they made with its DynamoDB units and PutEvents entries.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def short_name(function_name: str, stack: str) -> str:
    """`<stack>-OrderApiFunction-3EA8F...` -> `OrderApi` (the template's logical id without `Function`);
    a table's `<stack>-OrderTable-1X2Y...` -> `OrderTable`."""
    name = function_name.removeprefix(f"{stack}-")
    name = name.rsplit("-", 1)[0] if "-" in name else name
    return name.removesuffix("Function")


@dataclass
class FunctionUse:
    """One function's share of a window."""

    invocations: int = 0
    records: int = 0  # SQS messages or stream records its invocations carried
    handler_ms: float = 0.0
    handler_cpu_ms: float = 0.0  # CPU of the handler's thread in its invocations
    sdk_cpu_ms: float = 0.0  # of it, inside AWS calls (botocore)
    billed_ms: float = 0.0  # each invocation rounded up to the millisecond, as Lambda bills
    inits: list[float] = field(default_factory=list)  # handler-module import times, one per new worker
    errors: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # "dynamodb.TransactWriteItems" -> count


@dataclass
class Usage:
    """Everything the functions did in a window."""

    functions: dict[str, FunctionUse] = field(default_factory=dict)
    read_units: float = 0.0
    write_units: float = 0.0
    write_units_by_table: dict[str, float] = field(default_factory=dict)  # logical name -> write units
    events_put: Counter[str] = field(default_factory=Counter)  # detail type -> entries accepted
    calls: Counter[str] = field(default_factory=Counter)  # "kms.Decrypt" -> count
    failed_calls: Counter[str] = field(default_factory=Counter)  # "dynamodb.TransactWriteItems:Conflict"

    def invocations(self) -> int:
        """Every invocation of every function."""
        return sum(use.invocations for use in self.functions.values())


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every accounting line of the file (a torn last line, from a worker still writing, is skipped)."""
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines


def usage(lines: list[dict[str, Any]], stack: str, *, since: float = 0.0, until: float = float("inf")) -> Usage:
    """What the functions of `stack` did between `since` and `until` (epoch seconds)."""
    found = Usage()
    per_function: dict[str, FunctionUse] = defaultdict(FunctionUse)
    for line in lines:
        if not since <= float(line.get("t", 0)) < until:
            continue
        name = short_name(str(line.get("fn")), stack)
        use = per_function[name]
        operation = f"{line.get('svc')}.{line.get('op')}"
        if operation == "lambda.Invoke":
            use.invocations += 1
            use.records += int(line.get("records", 0))
            milliseconds = float(line.get("ms", 0.0))
            use.handler_ms += milliseconds
            use.handler_cpu_ms += float(line.get("cpu", 0.0))
            use.sdk_cpu_ms += float(line.get("sdkCpu", 0.0))
            use.billed_ms += max(1.0, float(int(milliseconds) + (milliseconds % 1 > 0)))
            use.errors += 1 if line.get("err") else 0
            continue
        if operation == "lambda.Init":
            use.inits.append(float(line.get("ms", 0.0)))
            continue
        use.calls[operation] += 1
        found.calls[operation] += 1
        found.read_units += float(line.get("rcu", 0.0))
        found.write_units += float(line.get("wcu", 0.0))
        if line.get("table") and line.get("wcu"):
            table = short_name(str(line["table"]), stack)
            found.write_units_by_table[table] = found.write_units_by_table.get(table, 0.0) + float(line["wcu"])
        if line.get("err"):
            found.failed_calls[f"{operation}:{line['err']}"] += 1
        elif operation == "events.PutEvents":
            types = list(line.get("types", []))
            # A partly failed PutEvents: the entries that failed are sent again and counted then.
            accepted = len(types) - int(line.get("failed", 0))
            found.events_put.update(types[:accepted] if accepted < len(types) else types)
    found.functions = dict(per_function)
    return found

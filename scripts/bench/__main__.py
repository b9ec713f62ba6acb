"""`make bench`: throughput, latency, view lag, per-order counts and cost, on a local cloud of its own.

    python -m scripts.bench                       # the full run: 8, 16 and 32 clients, 60 s each
    python -m scripts.bench --clients 2 --seconds 10 --warmup 5 --out-dir /tmp/bench   # a tiny run (CI)

It starts its own local cloud on --port (default 4610) with the request accounting of
scripts/bench/hook/ on, builds and deploys the stack (`sam deploy --config-env bench`: the local settings
with the log level AWS gets), seeds products with stock enough for the run, and then
1. warms up (every function gets its workers), then runs each level of closed-loop clients for --seconds,
   each client placing one order of one product and waiting for it to be final before the next;
2. waits for what the orders still cause (their deadline schedules fire --deadline seconds after each
   order) and reads what the functions did: invocations, batch sizes, handler time, every AWS call with
   its DynamoDB units, PutEvents entries by type, and the CPU of the local cloud and of each function;
3. measures each function's package and the import time of its handler module in a fresh interpreter;
4. writes the result as JSON, a chart (PNG) and the generated part of docs/benchmarks.md, and ends with
   a one-line summary.
The local cloud is stopped at the end. Figures are this machine's; docs/benchmarks.md says how to read them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from scripts import localcloud
from scripts.bench import accounting, cpu, footprint, report
from scripts.bench.costs import PRICES_AS_OF, REGION, as_json, order_cost, total_micro_dollars
from scripts.bench.load import HAPPY_PATH, Level, LoadRun
from scripts.stack import ApiClient, api_base_url, customer_token, stack_outputs, wait_until_priced
from scripts.template import resources_of_type, subscriptions, template

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "scripts" / "bench" / "hook"
STACK = "shop-bench"
CUSTOMER = ("bench@shop.example", "Bench-Passw0rd-2026")
PRODUCTS = [f"BENCH-{n:03d}" for n in range(1, 11)]
# Enough for any run: stock never runs out, so every order is a happy one.
STOCK = 1_000_000
DEADLINE_SECONDS = 60  # the local configuration's OrderDeadlineSeconds (samconfig.toml [local])


def percentile(values: list[float], share: float) -> float | None:
    """The `share` percentile (nearest rank) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Options:
    """What to run."""

    port: int
    clients: list[int]
    seconds: float
    warmup: float
    out_dir: Path
    docs: Path | None
    import_repeats: int
    keep_running: bool = False


def _run(command: list[str], env: dict[str, str], label: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "quiet"), label, *command], cwd=ROOT, env=env, check=True)


def start_cloud(port: int, accounting_file: Path) -> dict[str, str]:
    """Our own local cloud on `port`, with the accounting hook; returns the environment to reach it."""
    if localcloud.healthy(port):
        stopped = localcloud.stop(port)
        if localcloud.healthy(port):
            raise SystemExit(
                f"error: port {port} is taken by a local cloud this project did not start ({stopped}); "
                "pick another with --port"
            )
    accounting_file.parent.mkdir(parents=True, exist_ok=True)
    accounting_file.write_text("")
    print(localcloud.start(port, {"PYTHONPATH": str(HOOK), "SHOP_BENCH_ACCOUNTING": str(accounting_file)}))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": localcloud.endpoint(port),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{ROOT / '.venvs' / 'sam' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    os.environ.update(
        {
            key: env[key]
            for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
        }
    )
    return env


def deploy(env: dict[str, str]) -> None:
    """sam build and sam deploy of the local configuration with the log level AWS gets (samconfig [bench])."""
    _run(["sam", "build", "--config-env", "local"], env, "sam build")
    _run(["sam", "deploy", "--config-env", "bench", "--stack-name", STACK], env, f"sam deploy ({STACK})")


def seed(api: ApiClient) -> None:
    """The benchmark's products, priced alike and with stock for any run."""
    operator = api.as_operator()
    for number, product_id in enumerate(PRODUCTS, start=1):
        body = {"name": f"Bench product {number}", "price": "10.00", "available": STOCK}
        answer = operator.call("PUT", f"/products/{product_id}", body)
        if answer.status not in (200, 201):
            raise RuntimeError(f"PUT /products/{product_id} answered {answer.status}: {answer.body}")
    wait_until_priced(STACK, dict.fromkeys(PRODUCTS, "10.00"), timeout=120)


def level_figures(level: Level, cpu_used: dict[str, float]) -> dict[str, Any]:
    """One level's figures for the report."""
    finals = [s for s in level.samples if s.to_final_seconds is not None]
    to_final = [s.to_final_seconds for s in finals if s.to_final_seconds is not None]
    lags = [s.view_lag_seconds for s in finals if s.view_lag_seconds is not None]
    saga = [s.saga_seconds for s in finals if s.saga_seconds is not None]
    completed = level.completed_in_window()
    local_cloud = cpu_used.get("local cloud", 0.0)
    functions = sum(seconds for owner, seconds in cpu_used.items() if owner != "local cloud")
    return {
        "clients": level.clients,
        "seconds": level.seconds,
        "placed": len(level.samples),
        "completedInWindow": completed,
        "completedPerMinute": round(completed * 60 / level.seconds, 1),
        "confirmed": sum(1 for s in finals if s.status == "CONFIRMED"),
        "cancelled": sum(1 for s in finals if s.status == "CANCELLED"),
        "neverFinal": len(level.samples) - len(finals),
        "errors": level.errors[:5],
        "errorCount": len(level.errors),
        "postP50": percentile([s.post_seconds for s in level.samples], 0.5),
        "toFinal": {name: percentile(to_final, share) for name, share in _SHARES},
        "toFinalMax": max(to_final, default=None),
        "sagaServerSide": {name: percentile(saga, share) for name, share in _SHARES[:2]},
        "hopP50": {
            hop: percentile([s.hops[hop] for s in finals if hop in s.hops], 0.5)
            for hop in sorted({hop for s in finals for hop in s.hops}, key=_hop_order)
        },
        "viewLag": {name: percentile(lags, share) for name, share in _SHARES[:2]},
        "viewLagMax": max(lags, default=None),
        "viewsStaleAtFinal": sum(1 for lag in lags if lag > 0),
        "viewsNeverFinal": sum(1 for s in finals if s.view_at is None),
        "cpuSecondsPerOrder": {
            "localCloud": round(local_cloud / max(completed, 1), 4),
            "functions": round(functions / max(completed, 1), 4),
        },
        "cpuByFunction": {owner: round(seconds, 2) for owner, seconds in sorted(cpu_used.items(), key=lambda x: -x[1])},
    }


_SHARES = [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)]


def _hop_order(hop: str) -> int:
    first = hop.split("->", maxsplit=1)[0]
    return HAPPY_PATH.index(first) if first in HAPPY_PATH else len(HAPPY_PATH)


def _log_bytes(stack: str) -> int:
    logs = boto3.client("logs")
    total = 0
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/aws/cloudformation/{stack}/"):
        total += sum(int(group.get("storedBytes", 0)) for group in page["logGroups"])
    return total


def _function_facts() -> tuple[dict[str, int], set[str], dict[str, int]]:
    """From the template: each function's memory, the functions a queue feeds, subscribers per event type."""
    loaded = template()
    default_memory = int(loaded["Globals"]["Function"].get("MemorySize", 128))
    memory = {
        name.removesuffix("Function"): int(body["Properties"].get("MemorySize", default_memory))
        for name, body in resources_of_type("AWS::Serverless::Function").items()
    }
    consumers = subscriptions()
    queue_fed = {str(p["FunctionArn"]["GetAtt"]).split(".")[0].removesuffix("Function") for p in consumers.values()}
    for name, body in resources_of_type("AWS::Serverless::Function").items():
        if any(event.get("Type") == "SQS" for event in (body["Properties"].get("Events") or {}).values()):
            queue_fed.add(name.removesuffix("Function"))
    fanout: dict[str, int] = {}
    for parameters in consumers.values():
        for detail_type in parameters["EventPattern"].get("detail-type", []):
            fanout[detail_type] = fanout.get(detail_type, 0) + 1
    return memory, queue_fed, fanout


def run(options: Options) -> dict[str, Any]:
    """The whole benchmark; returns the result."""
    started = time.time()
    accounting_file = ROOT / ".localcloud" / str(options.port) / "accounting.jsonl"
    env = start_cloud(options.port, accounting_file)
    try:
        deploy(env)
        outputs = stack_outputs(STACK)
        api = ApiClient(api_base_url(outputs), timeout=60)
        seed(api)
        customer = api.as_customer(customer_token(outputs, *CUSTOMER))
        session = cpu.session_of(int((localcloud.state_dir(options.port) / "ministack.pid").read_text()))
        logs_before = _log_bytes(STACK)
        measured_from = time.time()
        levels: list[dict[str, Any]] = []
        with LoadRun(customer, outputs, PRODUCTS) as load:
            warm_clients = max(options.clients)
            print(f"warm-up: {warm_clients} clients for {options.warmup:.0f}s", flush=True)
            warm = load.level(warm_clients, options.warmup, seed=0)
            placed = len(warm.samples)
            last_placed = time.time()
            for clients in options.clients:
                before, machine_before = cpu.snapshot(session), cpu.machine_jiffies()
                level = load.level(clients, options.seconds, seed=clients)
                figures = level_figures(level, used_by_function(cpu.used_between(before, cpu.snapshot(session))))
                figures["machineBusy"] = round(cpu.machine_busy_share(machine_before, cpu.machine_jiffies()), 3)
                levels.append(figures)
                placed += len(level.samples)
                last_placed = time.time()
                print(_level_line(figures), flush=True)
            still_open = load.settle_views(timeout=60)
        # Each order's deadline schedule fires DEADLINE_SECONDS after it was placed: wait for the last.
        wait = max(0.0, last_placed + DEADLINE_SECONDS + 10 - time.time())
        print(f"waiting {wait:.0f}s for the last orders' deadline schedules to fire ...", flush=True)
        time.sleep(wait)
        measured_until = time.time()
        lines = accounting.read_lines(accounting_file)
        used = accounting.usage(lines, STACK, since=measured_from, until=measured_until)
        memory, queue_fed, fanout = _function_facts()
        log_bytes = _log_bytes(STACK) - logs_before
        cost_lines = order_cost(
            used, orders=placed, fanout=fanout, queue_fed=queue_fed, memory_mb=memory, log_bytes=log_bytes
        )
        packages = footprint.measure(repeats=options.import_repeats)
    finally:
        if options.keep_running:
            print(f"the local cloud keeps running with {STACK}; stop it with: make down PORT={options.port}")
        else:
            print(localcloud.stop(options.port))
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "options": {"clients": options.clients, "seconds": options.seconds, "warmup": options.warmup},
        "levels": levels,
        "viewsOpenAtEnd": still_open,
        "orders": placed,
        "perOrder": per_order_counts(used, placed),
        "cost": {
            "region": REGION,
            "pricesAsOf": PRICES_AS_OF,
            "microDollarsPerOrder": round(total_micro_dollars(cost_lines), 2),
            "lines": as_json(cost_lines),
        },
        "functions": packages,
        "tookSeconds": round(time.time() - started, 1),
    }


def used_by_function(used: dict[str, float]) -> dict[str, float]:
    """CPU seconds by owner with the functions' short names."""
    named: dict[str, float] = {}
    for owner, seconds in used.items():
        name = owner if owner == "local cloud" else accounting.short_name(owner, STACK)
        named[name] = named.get(name, 0.0) + seconds
    return named


def per_order_counts(used: accounting.Usage, orders: int) -> dict[str, Any]:
    """The per-order counts the cost is made of, and the invocations of each function."""
    return {
        "invocations": round(used.invocations() / orders, 3),
        "invocationsByFunction": {
            name: {
                "perOrder": round(use.invocations / orders, 3),
                "recordsPerInvocation": round(use.records / use.invocations, 2) if use.invocations else 0,
                "handlerMsMean": round(use.handler_ms / use.invocations, 1) if use.invocations else 0,
                "coldImportsMs": round(statistics.median(use.inits), 1) if use.inits else None,
                "workersStarted": len(use.inits),
            }
            for name, use in sorted(used.functions.items())
        },
        "dynamodbWriteUnits": round(used.write_units / orders, 2),
        "dynamodbWriteUnitsByTable": {
            table: round(units / orders, 2) for table, units in sorted(used.write_units_by_table.items())
        },
        "dynamodbReadUnits": round(used.read_units / orders, 2),
        "putEventsEntries": round(sum(used.events_put.values()) / orders, 2),
        "eventsByType": {name: round(count / orders, 3) for name, count in sorted(used.events_put.items())},
        "awsCalls": {call: round(count / orders, 3) for call, count in sorted(used.calls.items())},
        "failedCalls": dict(used.failed_calls),
        "schedulerCalls": round(used.calls.get("scheduler.CreateSchedule", 0) / orders, 3),
    }


def _level_line(figures: dict[str, Any]) -> str:
    final = figures["toFinal"]
    lag = figures["viewLag"]
    cpu_ms = {key: value * 1000 for key, value in figures["cpuSecondsPerOrder"].items()}
    return (
        f"{figures['clients']:>3} clients: {figures['completedPerMinute']:>7.1f} orders/min, "
        f"POST->final p50 {report.seconds(final['p50'])} p95 {report.seconds(final['p95'])} "
        f"p99 {report.seconds(final['p99'])} max {report.seconds(figures['toFinalMax'])}, "
        f"view lag p95 {report.seconds(lag['p95'])}, CPU/order {cpu_ms['localCloud']:.0f} ms local cloud "
        f"+ {cpu_ms['functions']:.0f} ms functions, machine {figures.get('machineBusy', 0):.0%} busy"
        + (f", {figures['errorCount']} errors" if figures["errorCount"] else "")
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=4610)
    parser.add_argument("--clients", default="8,16,32", help="client counts, comma-separated (default 8,16,32)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per level (default 60)")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of warm-up at the largest level")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "bench", help="where the JSON and chart go")
    parser.add_argument(
        "--docs",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="the document whose generated section is rewritten ('-' for none)",
    )
    parser.add_argument("--import-repeats", type=int, default=3)
    parser.add_argument("--keep-running", action="store_true", help="leave the local cloud and its stack up to look at")
    args = parser.parse_args(argv)
    try:
        clients = [int(part) for part in args.clients.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--clients takes whole numbers separated by commas, got {args.clients!r}")
    if not clients or min(clients) < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients must be >= 1, --seconds > 0 and --warmup >= 0")
    options = Options(
        port=args.port,
        clients=clients,
        seconds=args.seconds,
        warmup=args.warmup,
        out_dir=args.out_dir,
        docs=None if str(args.docs) == "-" else args.docs,
        import_repeats=args.import_repeats,
        keep_running=args.keep_running,
    )
    result = run(options)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    result_file = options.out_dir / "results.json"
    result_file.write_text(json.dumps(result, indent=2) + "\n")
    chart = report.chart(result, options.out_dir / "throughput.png")
    if options.docs is not None:
        report.write_docs(result, options.docs, chart)
    print(f"wrote {result_file}, {chart}" + (f" and {options.docs}" if options.docs else ""))
    print(report.summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

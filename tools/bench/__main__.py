"""`make bench`: throughput and latency as clients see them, a cold burst, per-order counts and cost.

    python -m tools.bench                       # the full run: 8, 16 and 32 clients, 60 s each
    python -m tools.bench --clients 2 --seconds 10 --warmup 5 --cold 6 --cold-stock 3 --out-dir /tmp/bench
    python -m tools.bench --mode table          # the server-only loop: clients watch the order table

It starts its own local cloud on --port (default 4610) with the request accounting of
tools/bench/hook/ on, builds and deploys the stack (`sam deploy --config-env bench`: the local settings
with the log level AWS gets), seeds products with stock enough for the run, and then
1. the cold level, on the stack as deployed: --cold customers at once each order one unit of a product
   that has --cold-stock units; how long each waited for its answer, what it was, every saga's outcome,
   and the local cloud's workers and memory meanwhile;
2. warms up, then runs each level of closed-loop clients for --seconds. In the client's loop (the default)
   each client is a signed-in customer that places an order and polls GET /orders/{id} until it is final
   (tools/bench/clients.py); in the table loop the benchmark watches the order table instead;
3. waits for what the orders still cause (their deadline schedules fire --deadline seconds after each
   order) and reads what the functions did: invocations, batch sizes, handler time, every AWS call with
   its DynamoDB units, PutEvents entries by type, and the CPU of the local cloud and of each function;
4. the read path, on the stack gone quiet: customers ask for their orders back to back, for the CPU one
   GET costs;
5. measures each function's package and the import time of its handler module in a fresh interpreter,
   against the 250 ms budget, and how it divides between the libraries and the project's own code;
6. writes the result as JSON, a chart (PNG) and the generated part of docs/benchmarks.md, and ends with
   a one-line summary.
Before the levels and after them it times a fixed loop in a fresh interpreter (`cpu.host_speed`), and so
does the A/B's baseline run: this machine's speed moves by a factor of two within hours, and the figures
of a run are read beside it.
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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from shopctl.stack import ApiClient, api_base_url, stack_outputs, wait_until_priced
from tools.bench import accounting, cpu, footprint, report
from tools.bench import clients as client_loop
from tools.bench.costs import PRICES_AS_OF, REGION, as_json, order_cost, total_micro_dollars
from tools.bench.load import HAPPY_PATH, Level, LoadRun
from tools.dev import localcloud
from tools.template import resources_of_type, subscriptions, template

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "tools" / "bench" / "hook"
STACK = "shop-bench"
CUSTOMER = ("bench@shop.example", "Bench-Passw0rd-2026")
PRODUCTS = [f"BENCH-{n:03d}" for n in range(1, 11)]
# Enough for any run: stock never runs out, so every order is a happy one.
STOCK = 1_000_000
COLD_PRODUCT = "BENCH-COLD"
PRICE = "10.00"
DEADLINE_SECONDS = 60  # the local configuration's OrderDeadlineSeconds (samconfig.toml [local])
# The warm-up outlasts this much after the stack's first order (`Options.settle`).
SETTLE_SECONDS = DEADLINE_SECONDS + 15


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
    mode: str = "client"
    poll: client_loop.Poll = field(default_factory=client_loop.Poll)
    cold: int = 60
    cold_stock: int = 25
    baseline: str | None = None
    # The warm-up goes on until this long after the stack's first order: the functions that start late (the
    # every-minute ones, a minute after the deploy; the deadline's, DEADLINE_SECONDS after the first order)
    # then start their first workers in it, not in a level, where 5 to 7 cold starts at once stalled every
    # order in flight (p99 8.4 s in a level that had them).
    settle: float = SETTLE_SECONDS


def _run(command: list[str], env: dict[str, str], label: str, cwd: Path = ROOT) -> None:
    subprocess.run([str(ROOT / "tools" / "dev" / "quiet"), label, *command], cwd=cwd, env=env, check=True)


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
    # The log-drain mend on (tools/dev/localcloud_server.py): invocations answered when they end.
    extra = {"PYTHONPATH": str(HOOK), "SHOP_BENCH_ACCOUNTING": str(accounting_file), "LOCAL_MEND_LOG_DRAIN": "1"}
    print(localcloud.start(port, extra))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": localcloud.endpoint(port),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{ROOT / '.venvs' / 'sam' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    start_cloud_env(port)
    return env


def start_cloud_env(port: int) -> None:
    """Point this process's AWS clients at the local cloud on `port`."""
    os.environ.update(
        AWS_ENDPOINT_URL=localcloud.endpoint(port),
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    boto3.setup_default_session()  # clients made from now on read the new endpoint


def deploy(env: dict[str, str]) -> None:
    """sam build and sam deploy of the local configuration with the log level AWS gets (samconfig [bench])."""
    _run(["sam", "build", "--config-env", "local"], env, "sam build")
    _run(["sam", "deploy", "--config-env", "bench", "--stack-name", STACK], env, f"sam deploy ({STACK})")


def baseline_checkout(commit: str) -> Path:
    """A work tree of `commit` beside the project's state (made once, reused): the A/B's other side."""
    where = ROOT / ".localcloud" / "baseline" / commit
    if not (where / "template.yaml").exists():
        where.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--force", "--detach", str(where), commit], cwd=ROOT, check=True)
    return where


def run_baseline(options: Options, commit: str) -> dict[str, Any]:
    """The same client's loop against the stack of `commit`, on a local cloud of its own, before this one's."""
    source = baseline_checkout(commit)
    port = options.port + 1
    env = start_cloud(port, ROOT / ".localcloud" / str(port) / "accounting.jsonl")
    try:
        stack = "shop-baseline"
        _run(["sam", "build", "--config-env", "local"], env, f"sam build ({commit})", cwd=source)
        _run(
            ["sam", "deploy", "--config-env", "local", "--stack-name", stack],
            env,
            f"sam deploy ({stack}, {commit})",
            cwd=source,
        )
        outputs = stack_outputs(stack)
        api = ApiClient(api_base_url(outputs), timeout=60)
        seed(api, options.cold_stock, stack=stack, priced="UserPoolId" in outputs)
        session = cpu.session_of(int((localcloud.state_dir(port) / "ministack.pid").read_text()))
        people = client_loop.customers(api, outputs, max(options.clients), "baseline")
        host = {"before": host_speed("before the levels")}
        levels, _, _, _ = _client_levels(options, people, session)
        split_cpu(levels, accounting.read_lines(ROOT / ".localcloud" / str(port) / "accounting.jsonl"), stack)
    finally:
        print(localcloud.stop(port))
    host["after"] = host_speed("after the levels, its local cloud stopped")
    return {"commit": commit, "levels": levels, "host": host}


def host_speed(when: str) -> dict[str, float]:
    """The machine's speed now (`cpu.host_speed`), printed."""
    speed = cpu.host_speed()
    print(
        f"host {when}: {cpu.PROBE_ADDITIONS:,} additions take {speed['medianMs']:.0f} ms "
        f"(median of 5, {speed['minMs']:.0f}-{speed['maxMs']:.0f})",
        flush=True,
    )
    return speed


def seed(api: ApiClient, cold_stock: int, *, stack: str = STACK, priced: bool = True) -> None:
    """The benchmark's products, priced alike and with stock for any run; and the cold level's, with little.
    `priced`: the stack keeps a copy of the prices to wait for (a stack from before server pricing does not)."""
    operator = api.as_operator()
    stock = dict.fromkeys(PRODUCTS, STOCK) | {COLD_PRODUCT: cold_stock}
    for number, (product_id, available) in enumerate(stock.items(), start=1):
        body = {"name": f"Bench product {number}", "price": PRICE, "available": available}
        answer = operator.call("PUT", f"/products/{product_id}", body)
        if answer.status not in (200, 201):
            raise RuntimeError(f"PUT /products/{product_id} answered {answer.status}: {answer.body}")
    if priced:
        wait_until_priced(stack, dict.fromkeys(stock, PRICE), timeout=120)


def cold_level(people: list[client_loop.Customer], session: int, options: Options) -> dict[str, Any]:
    """Every cold customer orders the cold product at once, on the stack as deployed."""
    peak = {"workers": 0, "bytes": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            workers, resident = cpu.workers_and_memory(session)
            peak["workers"], peak["bytes"] = max(peak["workers"], workers), max(peak["bytes"], resident)
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    orders = client_loop.burst(people, COLD_PRODUCT, PRICE, options.poll)
    done.set()
    sampler.join()
    answers = [o.post_seconds for o in orders]
    statuses: dict[str, int] = {}
    for order in orders:
        statuses[str(order.status_code)] = statuses.get(str(order.status_code), 0) + 1
    outcomes: dict[str, int] = {}
    for order in orders:
        key = "never final" if order.outcome is None else f"{order.outcome}/{order.reason or '-'}"
        outcomes[key] = outcomes.get(key, 0) + 1
    expected = {"CONFIRMED/-": min(options.cold_stock, len(orders))}
    if len(orders) > options.cold_stock:
        expected["CANCELLED/out_of_stock"] = len(orders) - options.cold_stock
    return {
        "customers": len(people),
        "stock": options.cold_stock,
        "answers": dict(sorted(statuses.items())),
        "answeredFirstTry": statuses.get("201", 0),
        "serverErrors": sum(count for status, count in statuses.items() if status.startswith("5") or status == "0"),
        "answerSeconds": {name: percentile(answers, share) for name, share in _SHARES}
        | {"max": max(answers, default=None)},
        "outcomes": dict(sorted(outcomes.items())),
        "expectedOutcomes": expected,
        "met": statuses.get("201", 0) == len(orders) and outcomes == expected,
        "lastOutcomeSeconds": round(time.monotonic() - started, 2),
        "peakWorkers": peak["workers"],
        "peakMemoryMb": round(peak["bytes"] / 1e6),
    }


def client_level_figures(level: client_loop.ClientLevel, cpu_used: dict[str, float]) -> dict[str, Any]:
    """One level of the client's loop, for the report."""
    seen = [o for o in level.orders if o.outcome_at is not None]
    to_outcome = [o.to_outcome_seconds for o in seen if o.to_outcome_seconds is not None]
    saga = [o.saga_seconds for o in seen if o.saga_seconds is not None]
    gets = [seconds for o in level.orders for seconds in o.get_seconds]
    completed = level.completed_in_window()
    local_cloud = cpu_used.get("local cloud", 0.0)
    functions = sum(seconds for owner, seconds in cpu_used.items() if owner != "local cloud")
    failed_posts = [o.status_code for o in level.orders if o.status_code != 201]
    failed_gets = sum(count for o in level.orders for count in o.get_errors.values())
    return {
        "clients": level.clients,
        "seconds": level.seconds,
        "placed": sum(1 for o in level.orders if o.order_id),
        "completedInWindow": completed,
        "completedPerMinute": round(completed * 60 / level.seconds, 1),
        "confirmed": sum(1 for o in seen if o.outcome == "CONFIRMED"),
        "cancelled": sum(1 for o in seen if o.outcome == "CANCELLED"),
        "neverSeenFinal": sum(1 for o in level.orders if o.order_id and o.outcome_at is None),
        "failedPosts": len(failed_posts),
        "failedGets": failed_gets,
        "serverErrors": sum(1 for status in failed_posts if status >= 500 or status == 0)
        + sum(count for o in level.orders for status, count in o.get_errors.items() if status >= 500 or status == 0),
        "errors": level.errors[:5],
        "errorCount": len(level.errors),
        "postP50": percentile([o.post_seconds for o in level.orders], 0.5),
        "postP95": percentile([o.post_seconds for o in level.orders], 0.95),
        "getP50": percentile(gets, 0.5),
        "getP95": percentile(gets, 0.95),
        "pollsPerOrder": round(sum(o.polls for o in seen) / max(len(seen), 1), 2),
        "toOutcome": {name: percentile(to_outcome, share) for name, share in _SHARES},
        "toOutcomeMax": max(to_outcome, default=None),
        "sagaServerSide": {name: percentile(saga, share) for name, share in _SHARES[:2]},
        "hopP50": {
            hop: percentile([o.hops[hop] for o in seen if hop in o.hops], 0.5)
            for hop in sorted({hop for o in seen for hop in o.hops}, key=_hop_order)
        },
        "cpuSecondsPerOrder": {
            "localCloud": round(local_cloud / max(completed, 1), 4),
            "functions": round(functions / max(completed, 1), 4),
        },
        "cpuByFunction": {owner: round(seconds, 2) for owner, seconds in sorted(cpu_used.items(), key=lambda x: -x[1])},
    }


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
    baseline = run_baseline(options, options.baseline) if options.baseline else None
    accounting_file = ROOT / ".localcloud" / str(options.port) / "accounting.jsonl"
    env = start_cloud(options.port, accounting_file)
    try:
        deploy(env)
        outputs = stack_outputs(STACK)
        api = ApiClient(api_base_url(outputs), timeout=60)
        seed(api, options.cold_stock)
        session = cpu.session_of(int((localcloud.state_dir(options.port) / "ministack.pid").read_text()))
        people = client_loop.customers(api, outputs, max(options.clients), "bench")
        # With the stack deployed and idle; and again once its local cloud is stopped.
        host = {"before": host_speed("before the levels")}
        cold, first_order_at = None, None
        if options.cold:
            # First, on the stack as deployed: the order API has never run.
            cold_people = client_loop.customers(api, outputs, options.cold, "cold")
            print(f"cold level: {options.cold} customers at once, {options.cold_stock} in stock", flush=True)
            first_order_at = time.time()
            cold = cold_level(cold_people, session, options)
            print(_cold_line(cold), flush=True)
        logs_before = _log_bytes(STACK)
        measured_from = time.time()
        every: list[client_loop.ClientOrder] = []
        if options.mode == "client":
            levels, placed, last_placed, every = _client_levels(options, people, session, first_order_at)
            still_open = 0
        else:
            levels, placed, last_placed, still_open = _table_levels(
                options, api, outputs, people, session, first_order_at=first_order_at
            )
        # Each order's deadline schedule fires DEADLINE_SECONDS after it was placed: wait for the last.
        wait = max(0.0, last_placed + DEADLINE_SECONDS + 10 - time.time())
        print(f"waiting {wait:.0f}s for the last orders' deadline schedules to fire ...", flush=True)
        time.sleep(wait)
        measured_until = time.time()
        lines = accounting.read_lines(accounting_file)
        used = accounting.usage(lines, STACK, since=measured_from, until=measured_until)
        split_cpu(levels, lines, STACK)
        memory, queue_fed, fanout = _function_facts()
        log_bytes = _log_bytes(STACK) - logs_before
        cost_lines = order_cost(
            used, orders=placed, fanout=fanout, queue_fed=queue_fed, memory_mb=memory, log_bytes=log_bytes
        )
        # After the accounting window: its GETs are no order's, and the deadlines have all fired.
        read = _read_path(options, people, every, session, levels) if options.mode == "client" else None
    finally:
        if options.keep_running:
            print(f"the local cloud keeps running with {STACK}; stop it with: make down PORT={options.port}")
        else:
            print(localcloud.stop(options.port))
    host["after"] = host_speed("after the levels" + ("" if options.keep_running else ", the local cloud stopped"))
    # Once the local cloud is down: its schedules (sweeps, watches, deadlines) fire every minute and, measured
    # while it ran, made one handler's import take twice another's on the same run.
    packages = footprint.measure(repeats=options.import_repeats)
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "host": host,
        "options": {
            "clients": options.clients,
            "seconds": options.seconds,
            "warmup": options.warmup,
            "settle": options.settle,
            "mode": options.mode,
            "poll": vars(options.poll),
        },
        "cold": cold,
        "levels": levels,
        "baseline": baseline,
        "readPath": read,
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


def warmup_seconds(options: Options, first_order_at: float | None, now: float) -> float:
    """How long the warm-up runs: `options.warmup`, and on until `options.settle` after the first order (now,
    when the stack has had none)."""
    first = now if first_order_at is None else first_order_at
    return max(options.warmup, first + options.settle - now)


def _warmup_line(clients: int, seconds: float, options: Options) -> str:
    settled = f", until {options.settle:.0f}s after the stack's first order" if seconds > options.warmup else ""
    return f"warm-up: {clients} clients for {seconds:.0f}s{settled}"


def _client_levels(
    options: Options, people: list[client_loop.Customer], session: int, first_order_at: float | None = None
) -> tuple[list[dict[str, Any]], int, float, list[client_loop.ClientOrder]]:
    """Warm-up, then each level of the client's loop; returns the levels' figures, the orders placed, when
    the last was placed, and every order (for the read path)."""
    warmup = warmup_seconds(options, first_order_at, time.time())
    print(_warmup_line(len(people), warmup, options), flush=True)
    warm = client_loop.level(people, PRODUCTS, PRICE, warmup, poll=options.poll, seed=0)
    placed, last_placed = len(warm.orders), time.time()
    levels: list[dict[str, Any]] = []
    every: list[client_loop.ClientOrder] = list(warm.orders)
    for count in options.clients:
        before, machine_before, started = cpu.snapshot(session), cpu.machine_jiffies(), time.time()
        level = client_loop.level(people[:count], PRODUCTS, PRICE, options.seconds, poll=options.poll, seed=count)
        after = cpu.snapshot(session)
        figures = client_level_figures(level, used_by_function(cpu.used_between(before, after)))
        figures["startedAt"], figures["endedAt"] = started, time.time()
        figures["machineBusy"] = round(cpu.machine_busy_share(machine_before, cpu.machine_jiffies()), 3)
        figures["workersStarted"] = cpu.workers_started(before, after)
        levels.append(figures)
        every += level.orders
        placed += len(level.orders)
        last_placed = time.time()
        print(_client_line(figures), flush=True)
    return levels, placed, last_placed, every


def _read_path(
    options: Options,
    people: list[client_loop.Customer],
    every: list[client_loop.ClientOrder],
    session: int,
    levels: list[dict[str, Any]],
) -> dict[str, Any]:
    """The read path's CPU per GET (each level's read CPU per order from it), on a quiet stack: run once the
    levels' deadline schedules have fired, so the deadline handler does not share the machine with it."""
    readers = people[: max(1, min(len(people), 8))]
    seconds = min(15.0, options.seconds)
    before = cpu.snapshot(session)
    gets = client_loop.read_path(readers, every, seconds)
    used = used_by_function(cpu.used_between(before, cpu.snapshot(session)))
    per_get = {
        "localCloud": round(used.get("local cloud", 0.0) * 1000 / max(gets, 1), 2),
        "orderApi": round(used.get("OrderApi", 0.0) * 1000 / max(gets, 1), 2),
    }
    read = {"readers": len(readers), "seconds": seconds, "gets": gets, "cpuMsPerGet": per_get}
    for figures in levels:
        figures["readCpuMsPerOrder"] = round(sum(per_get.values()) * figures["pollsPerOrder"], 1)
    print(
        f"read path: {gets} GETs by {len(readers)} customers in {seconds:.0f}s; CPU per GET "
        f"{per_get['localCloud']:.1f} ms local cloud + {per_get['orderApi']:.1f} ms order API",
        flush=True,
    )
    return read


def _table_levels(
    options: Options,
    api: ApiClient,
    outputs: dict[str, str],
    people: list[client_loop.Customer],
    session: int,
    *,
    first_order_at: float | None = None,
) -> tuple[list[dict[str, Any]], int, float, int]:
    """The server-only loop: one customer places every order, the benchmark watches the order table."""
    levels: list[dict[str, Any]] = []
    with LoadRun(people[0].api, outputs, PRODUCTS) as load:
        warm_clients = max(options.clients)
        warmup = warmup_seconds(options, first_order_at, time.time())
        print(_warmup_line(warm_clients, warmup, options), flush=True)
        warm = load.level(warm_clients, warmup, seed=0)
        placed = len(warm.samples)
        last_placed = time.time()
        for count in options.clients:
            before, machine_before, started = cpu.snapshot(session), cpu.machine_jiffies(), time.time()
            level = load.level(count, options.seconds, seed=count)
            after = cpu.snapshot(session)
            figures = level_figures(level, used_by_function(cpu.used_between(before, after)))
            figures["startedAt"], figures["endedAt"] = started, time.time()
            figures["machineBusy"] = round(cpu.machine_busy_share(machine_before, cpu.machine_jiffies()), 3)
            figures["workersStarted"] = cpu.workers_started(before, after)
            levels.append(figures)
            placed += len(level.samples)
            last_placed = time.time()
            print(_level_line(figures), flush=True)
        still_open = load.settle_views(timeout=60)
    return levels, placed, last_placed, still_open


def split_cpu(levels: list[dict[str, Any]], lines: list[dict[str, Any]], stack: str) -> None:
    """Each level's `cpuSplit`, from the accounting lines of its window (which it then drops)."""
    for figures in levels:
        window = accounting.usage(lines, stack, since=figures.pop("startedAt"), until=figures.pop("endedAt"))
        figures["cpuSplit"] = cpu_split(window, figures, stack)


def cpu_split(used: accounting.Usage, level: dict[str, Any], stack: str = STACK) -> dict[str, dict[str, float]]:
    """Where each function's CPU went in a level, per order completed in it: its workers' (from /proc, the
    level's `cpuByFunction`), of it the handler's, of that the AWS calls' (`used`: the accounting of the
    same window), and its AWS calls."""
    orders = max(int(level["completedInWindow"]), 1)
    # Named as `used_by_function` names them: another stack's functions keep their stack's prefix.
    workers = {owner.removeprefix(f"{stack}-"): seconds for owner, seconds in level["cpuByFunction"].items()}
    return {
        name: {
            "cpuMsPerOrder": round(workers.get(name, 0.0) * 1000 / orders, 2),
            "handlerCpuMsPerOrder": round(use.handler_cpu_ms / orders, 2),
            "sdkCpuMsPerOrder": round(use.sdk_cpu_ms / orders, 2),
            "awsCallsPerOrder": round(sum(use.calls.values()) / orders, 3),
        }
        for name, use in sorted(used.functions.items())
        if use.invocations
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
        + _started(figures)
        + (f", {figures['errorCount']} errors" if figures["errorCount"] else "")
    )


def _started(figures: dict[str, Any]) -> str:
    started = figures.get("workersStarted", 0)
    return f", {started} worker{'s' if started != 1 else ''} started" if started else ""


def _client_line(figures: dict[str, Any]) -> str:
    final = figures["toOutcome"]
    cpu_ms = {key: value * 1000 for key, value in figures["cpuSecondsPerOrder"].items()}
    return (
        f"{figures['clients']:>3} clients: {figures['completedPerMinute']:>7.1f} orders/min seen final by their "
        f"clients, POST->outcome seen p50 {report.seconds(final['p50'])} p95 {report.seconds(final['p95'])} "
        f"p99 {report.seconds(final['p99'])}, saga p50 {report.seconds(figures['sagaServerSide']['p50'])}, "
        f"{figures['pollsPerOrder']:.1f} GETs/order, CPU/order {cpu_ms['localCloud']:.0f} ms local cloud "
        f"+ {cpu_ms['functions']:.0f} ms functions, machine {figures.get('machineBusy', 0):.0%} busy"
        + _started(figures)
        + (f", {figures['serverErrors']} 5xx" if figures["serverErrors"] else "")
        + (f", {figures['errorCount']} errors" if figures["errorCount"] else "")
    )


def _cold_line(cold: dict[str, Any]) -> str:
    answer = cold["answerSeconds"]
    return (
        f"cold level: {cold['answeredFirstTry']} of {cold['customers']} answered 201 on the first try "
        f"({cold['answers']}), answer p50 {report.seconds(answer['p50'])} max {report.seconds(answer['max'])}; "
        f"outcomes {cold['outcomes']}; last outcome after {cold['lastOutcomeSeconds']:.1f}s; "
        f"peak {cold['peakWorkers']} workers, {cold['peakMemoryMb']} MB; target {'met' if cold['met'] else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=4610)
    parser.add_argument("--clients", default="8,16,32", help="client counts, comma-separated (default 8,16,32)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per level (default 60)")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of warm-up at the largest level")
    parser.add_argument(
        "--settle",
        type=float,
        default=SETTLE_SECONDS,
        help="the warm-up goes on until this many seconds after the stack's first order, so that the functions "
        "that start late (every minute; the deadline's) start in it, not in a level (0: --warmup alone)",
    )
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "bench", help="where the JSON and chart go")
    parser.add_argument(
        "--docs",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="the document whose generated section is rewritten ('-' for none)",
    )
    parser.add_argument("--import-repeats", type=int, default=3)
    parser.add_argument("--keep-running", action="store_true", help="leave the local cloud and its stack up to look at")
    parser.add_argument(
        "--mode", choices=["client", "table"], default="client",
        help="client: customers poll GET /orders/{id} (default); table: the benchmark watches the order table",
    )  # fmt: skip
    parser.add_argument("--poll", type=float, default=0.5, help="client: seconds before a client's first GET")
    parser.add_argument("--poll-max", type=float, default=2.0, help="client: the longest wait between GETs")
    parser.add_argument("--cold", type=int, default=60, help="customers of the cold burst (0: none)")
    parser.add_argument("--cold-stock", type=int, default=25, help="units of the product the cold burst orders")
    parser.add_argument(
        "--baseline", metavar="COMMIT", help="first run the same client's loop against the stack of this commit (A/B)"
    )
    args = parser.parse_args(argv)
    try:
        clients = [int(part) for part in args.clients.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--clients takes whole numbers separated by commas, got {args.clients!r}")
    if not clients or min(clients) < 1 or args.seconds <= 0 or args.warmup < 0 or args.settle < 0:
        parser.error("--clients must be >= 1, --seconds > 0, --warmup >= 0 and --settle >= 0")
    options = Options(
        port=args.port,
        clients=clients,
        seconds=args.seconds,
        warmup=args.warmup,
        settle=args.settle,
        out_dir=args.out_dir,
        docs=None if str(args.docs) == "-" else args.docs,
        import_repeats=args.import_repeats,
        keep_running=args.keep_running,
        mode=args.mode,
        poll=client_loop.Poll(first=args.poll, most=max(args.poll, args.poll_max)),
        cold=args.cold,
        cold_stock=args.cold_stock,
        baseline=args.baseline,
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

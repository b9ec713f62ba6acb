"""The benchmark's own parts: the request accounting in the workers (on moto), reading it back, the cost
model, the report and the CPU attribution. The whole of `make bench` runs in `make bench-smoke`."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import botocore.client
import pytest
from moto import mock_aws

from tools.bench import __main__ as bench
from tools.bench import accounting, cpu, footprint, report
from tools.bench.__main__ import percentile
from tools.bench.costs import PRICES, order_cost, sqs_deliveries, total_micro_dollars

HOOK = Path(__file__).resolve().parents[2] / "tools" / "bench" / "hook" / "sitecustomize.py"
STACK = "shop-bench"


@pytest.fixture
def hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, Path]:
    """The worker's accounting module, loaded as a Lambda worker of `shop-bench` would, writing to a tmp file."""
    written = tmp_path / "accounting.jsonl"
    monkeypatch.setenv("SHOP_BENCH_ACCOUNTING", str(written))
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)  # so loading it installs nothing by itself
    spec = importlib.util.spec_from_file_location("bench_sitecustomize", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "_FUNCTION", f"{STACK}-PaymentOnOrderCreatedFunction-ABC123")
    # Undone after the test: the wrapper replaces botocore's method for every client in this process.
    original = vars(botocore.client.BaseClient)["_make_api_call"]
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)
    module.install(botocore.client)
    return module, written


def _table_t() -> Any:
    """A DynamoDB client with an on-demand table `t` keyed by `pk` (on moto)."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@mock_aws
def test_the_hook_records_each_aws_call_with_its_dynamodb_units_and_put_events_types(
    hook: tuple[ModuleType, Path],
) -> None:
    _, written = hook
    dynamodb = _table_t()
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})
    dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    events = boto3.client("events")
    events.put_events(
        Entries=[
            {"Source": "shop.payment", "DetailType": "PaymentProcessed", "Detail": "{}"},
            {"Source": "shop.payment", "DetailType": "PaymentFailed", "Detail": "{}"},
        ]
    )

    lines = [line for line in _lines(written) if line["op"] != "CreateTable"]

    assert [(line["svc"], line["op"]) for line in lines] == [
        ("dynamodb", "PutItem"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "PutItem"),
        ("events", "PutEvents"),
    ]
    put, get, refused, put_events = lines
    assert put["wcu"] == 1.0 and put["rcu"] == 0.0
    assert get["rcu"] > 0 and get["wcu"] == 0.0  # (moto charges a consistent read as an eventual one)
    assert refused["err"] == "ConditionalCheckFailedException"
    assert put_events["types"] == ["PaymentProcessed", "PaymentFailed"] and put_events["failed"] == 0
    assert {line["fn"] for line in lines} == {f"{STACK}-PaymentOnOrderCreatedFunction-ABC123"}


@mock_aws
def test_the_hook_leaves_a_call_that_asked_for_its_capacity_as_it_was(hook: tuple[ModuleType, Path]) -> None:
    _, written = hook
    dynamodb = _table_t()
    answer = dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}}, ReturnConsumedCapacity="NONE")

    assert "ConsumedCapacity" not in answer
    assert _lines(written)[-1]["wcu"] == 0.0


def test_the_hook_records_each_invocation_with_its_batch_and_time(hook: tuple[ModuleType, Path]) -> None:
    module, written = hook
    handler_module = SimpleNamespace(lambda_handler=lambda event, context: {"batchItemFailures": []})
    module.wrap_handler(handler_module)
    module.wrap_handler(handler_module)  # wrapped once, however often it is asked

    handler_module.lambda_handler({"Records": [{}, {}, {}]}, None)
    handler_module.lambda_handler({"httpMethod": "POST"}, None)

    invokes = _lines(written)
    assert [(line["op"], line["records"]) for line in invokes] == [("Invoke", 3), ("Invoke", 0)]
    assert all(line["ms"] >= 0 for line in invokes)


@mock_aws
def test_the_hook_tells_the_handlers_cpu_from_its_aws_calls_and_from_its_waits(hook: tuple[ModuleType, Path]) -> None:
    """CPU, not time: a handler that waits 80 ms uses next to none; one that computes for 40 ms of CPU
    uses that, none in AWS calls; one that calls DynamoDB has that call's CPU as its `sdkCpu`."""
    module, written = hook
    dynamodb = _table_t()

    def computes(event: Any, context: Any) -> None:
        started = time.thread_time()
        while time.thread_time() - started < 0.04:
            pass

    def calls(event: Any, context: Any) -> None:
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})

    handlers = [
        SimpleNamespace(lambda_handler=lambda event, context: time.sleep(0.08)),
        SimpleNamespace(lambda_handler=computes),
        SimpleNamespace(lambda_handler=calls),
    ]
    for handler_module in handlers:
        module.wrap_handler(handler_module)
        handler_module.lambda_handler({}, None)

    lines = [line for line in _lines(written) if line["op"] != "CreateTable"]
    waits, computed, put = [line for line in lines if line["op"] == "Invoke"]
    (call,) = [line for line in lines if line["op"] == "PutItem"]
    assert waits["ms"] >= 80 and waits["cpu"] < 20 and waits["sdkCpu"] == 0
    assert computed["cpu"] >= 40 and computed["sdkCpu"] == 0
    assert call["cpu"] > 0 and put["sdkCpu"] == pytest.approx(call["cpu"], abs=0.002) and put["cpu"] >= put["sdkCpu"]


def test_the_hook_counts_units_of_one_answer_or_of_several_tables(hook: tuple[ModuleType, Path]) -> None:
    module, _ = hook
    assert module.units("TransactWriteItems", [{"TableName": "a", "CapacityUnits": 6.0}, {"CapacityUnits": 2}]) == (
        0.0,
        8.0,
    )
    assert module.units("Query", {"CapacityUnits": 0.5}) == (0.5, 0.0)
    assert module.units("UpdateItem", {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2}) == (1.0, 2.0)
    assert module.units("GetItem", None) == (0.0, 0.0)


def _line(t: float, fn: str, svc: str, op: str, **extra: Any) -> dict[str, Any]:
    return {"t": t, "fn": f"{STACK}-{fn}Function-X1", "svc": svc, "op": op, **extra}


def test_usage_sums_a_window_by_function_and_call() -> None:
    lines = [
        _line(1, "OrderApi", "lambda", "Init", ms=480.0),
        _line(2, "OrderApi", "lambda", "Invoke", ms=12.2, records=0, cpu=6.0, sdkCpu=4.5),
        _line(2, "OrderApi", "dynamodb", "TransactWriteItems", rcu=0.0, wcu=6.0, cpu=4.5),
        _line(2.5, "OrderApi", "lambda", "Invoke", ms=3.0, records=0),  # a line from before CPU was recorded
        _line(3, "SagaOnSagaEvent", "lambda", "Invoke", ms=0.4, records=3),
        _line(3, "SagaOnSagaEvent", "dynamodb", "PutItem", err="ConditionalCheckFailedException", wcu=1.0),
        _line(4, "OrderOutboxRelay", "events", "PutEvents", types=["OrderCreated", "OrderConfirmed"], failed=1),
        _line(9, "OrderApi", "lambda", "Invoke", ms=50.0, records=0),  # outside the window
    ]

    used = accounting.usage(lines, STACK, since=1, until=9)

    assert used.invocations() == 3
    api = used.functions["OrderApi"]
    assert (api.invocations, api.billed_ms, api.inits) == (2, 16.0, [480.0])
    assert (api.handler_cpu_ms, api.sdk_cpu_ms) == (6.0, 4.5)
    assert used.functions["SagaOnSagaEvent"].billed_ms == 1.0  # Lambda bills at least a millisecond
    assert used.functions["SagaOnSagaEvent"].records == 3
    assert used.write_units == 7.0
    assert used.failed_calls == Counter({"dynamodb.PutItem:ConditionalCheckFailedException": 1})
    assert sum(used.events_put.values()) == 1  # the failed entry is put again, and counted then


def test_where_each_functions_cpu_goes_is_counted_per_order_and_reported() -> None:
    lines = [
        _line(2, "OrderApi", "lambda", "Invoke", ms=12.0, records=0, cpu=6.0, sdkCpu=4.0),
        _line(2, "OrderApi", "dynamodb", "BatchGetItem", cpu=4.0),
        _line(3, "OrderApi", "lambda", "Invoke", ms=10.0, records=0, cpu=6.0, sdkCpu=4.0),
        _line(3, "OrderApi", "dynamodb", "BatchGetItem", cpu=4.0),
        _line(4, "SagaOnSagaEvent", "lambda", "Invoke", ms=30.0, records=2, cpu=10.0, sdkCpu=8.0),
        _line(4, "SagaOnSagaEvent", "dynamodb", "PutItem", cpu=4.0),
        _line(4, "SagaOnSagaEvent", "dynamodb", "PutItem", cpu=4.0),
        _line(4, "SagaWatch", "lambda", "Invoke", ms=1.0, records=0, cpu=0.02, sdkCpu=0.0),
        _line(9, "OrderApi", "lambda", "Invoke", ms=10.0, records=0, cpu=60.0, sdkCpu=40.0),  # the next level's
    ]
    # The level's CPU by function from /proc (InventoryApi's workers used some, and it was not invoked).
    workers = {"local cloud": 0.5, "OrderApi": 0.020, "SagaOnSagaEvent": 0.014, "InventoryApi": 0.001}
    level: dict[str, Any] = {
        "clients": 16,
        "completedInWindow": 2,
        "startedAt": 1.0,
        "endedAt": 5.0,
        "cpuByFunction": workers,
    }
    baseline = {**level, "cpuByFunction": {f"shop-baseline-{name}": seconds for name, seconds in workers.items()}}

    bench.split_cpu([level], lines, STACK)
    bench.split_cpu(
        [baseline], [{**line, "fn": line["fn"].replace(STACK, "shop-baseline")} for line in lines], "shop-baseline"
    )

    assert "startedAt" not in level and "endedAt" not in level
    assert level["cpuSplit"]["OrderApi"] == {
        "cpuMsPerOrder": 10.0,
        "handlerCpuMsPerOrder": 6.0,
        "sdkCpuMsPerOrder": 4.0,
        "awsCallsPerOrder": 1.0,
    }
    assert baseline["cpuSplit"] == level["cpuSplit"]  # another stack's functions are named alike
    text = "\n".join(report._cpu_rows({"levels": [level], "baseline": {"commit": "965cca3", "levels": [baseline]}}))
    assert "Where the functions' CPU goes at 16 clients" in text
    assert "| OrderApi | 10.0 | 6.0 | 4.0 | 1.00 | 4.00 | 4.0 |" in text
    assert "| SagaOnSagaEvent | 7.0 | 5.0 | 4.0 | 1.00 | 4.00 | 2.0 |" in text
    assert text.index("| OrderApi |") < text.index("| SagaOnSagaEvent |")  # the costliest first
    assert "| **all** | 17.0 | 11.0 | 8.0 | 2.00 | 4.00 | 6.0 |" in text
    assert "| SagaWatch |" not in text and "Under 0.05 ms an order in the level: SagaWatch." in text
    assert "InventoryApi" not in text
    assert "| this commit | 16 | 17 | 8 (47%) | 2.0 | 4.00 | 3 (18%) | 6 (35%) |" in text
    assert "| 965cca3 | 16 | 17 | 8 (47%) | 2.0 | 4.00 | 3 (18%) | 6 (35%) |" in text
    assert report._cpu_rows({"levels": [{"clients": 8}]}) == []  # a run that did not measure it


def test_short_names_are_the_template_logical_ids() -> None:
    assert accounting.short_name(f"{STACK}-OrderApiFunction-3EA8FABD60397", STACK) == "OrderApi"
    assert accounting.short_name(f"{STACK}-SagaOnSagaEventFunction-1", STACK) == "SagaOnSagaEvent"


def test_accounting_lines_torn_by_a_worker_still_writing_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(_line(1, "OrderApi", "lambda", "Invoke", ms=1.0)) + '\n{"t": 2, "fn"')
    assert len(accounting.read_lines(path)) == 1
    assert accounting.read_lines(tmp_path / "missing.jsonl") == []


def test_the_cost_of_an_order_adds_each_counted_quantity_at_its_price() -> None:
    used = accounting.Usage(
        functions={
            "OrderApi": accounting.FunctionUse(invocations=2, billed_ms=100.0),
            "SagaOnSagaEvent": accounting.FunctionUse(invocations=4, billed_ms=40.0),
        },
        read_units=4.0,
        write_units=20.0,
        events_put=Counter({"OrderCreated": 2}),
        calls=Counter({"scheduler.CreateSchedule": 2, "kms.Encrypt": 2, "sqs.SendMessage": 1}),
    )

    lines = order_cost(
        used,
        orders=2,
        fanout={"OrderCreated": 3},
        queue_fed={"SagaOnSagaEvent"},
        memory_mb={"OrderApi": 256, "SagaOnSagaEvent": 256},
        log_bytes=2_000,
    )
    by_item = {line.item: line for line in lines}

    # 2 orders: (6 rule sends + 2 schedule sends + 8 poller requests + 1 own) / 2
    assert by_item["sqs_request"].per_order == pytest.approx(8.5)
    assert by_item["lambda_request"].per_order == 3.0
    assert by_item["lambda_gb_second"].per_order == pytest.approx(0.14 * 0.25 / 2)
    assert by_item["dynamodb_write_unit"].micro_dollars == pytest.approx(10 * 0.625)
    assert by_item["kms_request"].micro_dollars == pytest.approx(3.0)
    assert by_item["api_request"].micro_dollars == pytest.approx(3.5)
    assert total_micro_dollars(lines) == pytest.approx(sum(line.micro_dollars for line in lines))
    assert set(by_item) == set(PRICES)
    with pytest.raises(ValueError, match="no orders"):
        order_cost(used, orders=0, fanout={}, queue_fed=set(), memory_mb={}, log_bytes=0)


def test_deliveries_are_events_times_their_subscribers() -> None:
    assert sqs_deliveries(Counter({"OrderCreated": 10, "ProductPriced": 1}), {"OrderCreated": 3}) == 30.0


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.99) == 3.0


def _result() -> dict[str, Any]:
    level = {
        "clients": 8,
        "completedPerMinute": 912.0,
        "toFinal": {"p50": 0.44, "p95": 0.84, "p99": 0.88},
        "toFinalMax": 0.89,
        "sagaServerSide": {"p50": 0.3, "p95": 0.6},
        "viewLag": {"p50": 0.0, "p95": 0.1},
        "viewsStaleAtFinal": 3,
        "confirmed": 900,
        "cancelled": 0,
        "cpuSecondsPerOrder": {"localCloud": 0.05, "functions": 0.07},
    }
    return {
        "when": "2026-12-04T22:00:00Z",
        "machine": {"cpus": 2, "python": "3.13", "system": "Linux"},
        "levels": [level, {**level, "clients": 16}],
        "orders": 1800,
        "tookSeconds": 300.0,
        "perOrder": {
            "invocations": 14.7,
            "dynamodbWriteUnits": 59.0,
            "dynamodbReadUnits": 11.0,
            "putEventsEntries": 4.0,
            "schedulerCalls": 1.0,
            "awsCalls": {"kms.Encrypt": 1.0},
            "invocationsByFunction": {
                "OrderApi": {"perOrder": 1.0, "recordsPerInvocation": 0.0, "handlerMsMean": 40.0},
            },
        },
        "cost": {
            "region": "us-east-1",
            "pricesAsOf": "2025",
            "microDollarsPerOrder": 77.2,
            "lines": [
                {"item": "api_request", "perOrder": 1.0, "unitPriceUsd": 3.5e-6, "microDollars": 3.5, "note": "x"}
            ],
        },
        "functions": {
            "functions": {
                "OrderApi": {
                    "packageBytes": 45_000_000,
                    "importSeconds": 0.85,
                    "librariesImportSeconds": 0.62,
                    "ownImportSeconds": 0.21,
                }
            },
            "layers": {},
        },
    }


def test_the_report_rewrites_only_its_own_section_and_draws_the_chart(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\nwritten by hand\n\n{report.BEGIN}\nold figures\n{report.END}\n\nmore by hand\n")
    chart = report.chart(_result(), tmp_path / "bench" / "throughput.png")

    report.write_docs(_result(), docs, chart)

    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\nwritten by hand") and text.rstrip().endswith("more by hand")
    assert "old figures" not in text
    assert "| 8 | 912 | 0.44 s | 0.84 s | 0.88 s | 0.89 s |" in text
    assert "![throughput and latency against clients](bench/throughput.png)" in text
    assert "| OrderApi | 1.000 | 0.00 | 40.0 | 45.0 | 850 **over** | 620 | 210 |" in text  # the budget is 250 ms
    assert "the libraries 620 to 620 ms, the project's own code 210 to 210 ms." in text
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert report.summary(_result()).startswith("bench: 8 clients 912/min p95 0.84 s; 16 clients 912/min")


def test_an_import_divides_into_the_libraries_it_loads_and_the_projects_own_modules(tmp_path: Path) -> None:
    """A library that takes 1 s to import is the libraries' part only; the package's and the project's layer's
    modules (0.2 s and 0.1 s) are the rest. Sleeps, not speed: what is checked is where each second lands."""
    package, dependencies, own_layer = tmp_path / "package", tmp_path / "dependencies", tmp_path / "shared"
    for folder, name, body in [
        (dependencies, "slowlib.py", "import time\ntime.sleep(1.0)\n"),
        (own_layer, "mine.py", "import time\ntime.sleep(0.1)\n"),
        (package / "app", "__init__.py", ""),
        (package / "app", "handler.py", "import time\n\nimport mine\nimport slowlib\n\ntime.sleep(0.2)\n"),
    ]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body)

    split = footprint.import_split(
        package,
        "app.handler",
        {},
        1,
        layers=[dependencies, own_layer],
        own_layers=[own_layer],
        python=Path(sys.executable),
    )
    whole = footprint.import_seconds(
        package, "app.handler", {}, 1, layers=[dependencies, own_layer], python=Path(sys.executable)
    )

    assert split is not None and whole is not None
    libraries, own = split
    assert libraries >= 1.0 and 0.3 <= own < 1.0
    assert whole >= 1.3
    assert (
        footprint.import_split(package, "app.missing", {}, 1, layers=[dependencies], python=Path(sys.executable))
        is None
    )


def test_cpu_is_told_apart_by_the_worker_folder_of_each_function() -> None:
    worker = (
        "/w/.venvs/ministack/bin/python "
        "/w/.localcloud/4610/tmp/ministack-lambda-shop-bench-OrderApiFunction-3EA8FABD60397-zaju35sw/_worker.py "
    )
    assert cpu.owner_of(worker) == "shop-bench-OrderApiFunction-3EA8FABD60397"
    assert cpu.owner_of("/w/.venvs/ministack/bin/python /w/tools/dev/localcloud_server.py ") == "local cloud"
    before = {1: ("local cloud", 10.0), 2: ("f", 1.0)}
    after = {1: ("local cloud", 12.5), 2: ("f", 1.5), 3: ("f", 0.25)}
    assert cpu.used_between(before, after) == {"local cloud": 2.5, "f": 0.75}
    assert cpu.workers_started(before, after | {4: ("local cloud", 0.1)}) == 1


def test_the_warm_up_lasts_until_the_late_starters_have_started() -> None:
    options = bench.Options(
        port=1, clients=[8], seconds=60, warmup=20, out_dir=Path(), docs=None, import_repeats=1, settle=75
    )
    # The cold level's first order 40 s ago: 35 s more, so the deadline's first worker starts in the warm-up.
    assert bench.warmup_seconds(options, first_order_at=1000.0, now=1040.0) == 35.0
    # No order yet (no cold level): the warm-up's own first order starts the clock.
    assert bench.warmup_seconds(options, first_order_at=None, now=1040.0) == 75.0
    # Long past it, or not asked for: the warm-up alone.
    assert bench.warmup_seconds(options, first_order_at=1000.0, now=1100.0) == 20.0
    assert bench.warmup_seconds(replace(options, settle=0), first_order_at=None, now=1040.0) == 20.0


def _client_result() -> dict[str, Any]:
    level = {
        "clients": 16,
        "completedPerMinute": 1012.0,
        "toOutcome": {"p50": 1.1, "p95": 1.9, "p99": 2.4},
        "toOutcomeMax": 3.0,
        "postP50": 0.08,
        "getP50": 0.05,
        "getP95": 0.12,
        "pollsPerOrder": 2.4,
        "readCpuMsPerOrder": 31.0,
        "sagaServerSide": {"p50": 0.7, "p95": 1.2},
        "serverErrors": 0,
        "cpuSecondsPerOrder": {"localCloud": 0.05, "functions": 0.07},
        "machineBusy": 0.8,
        "workersStarted": 0,
    }
    cold = {
        "customers": 60,
        "stock": 25,
        "answers": {"201": 60},
        "answeredFirstTry": 60,
        "serverErrors": 0,
        "answerSeconds": {"p50": 2.0, "p95": 4.0, "p99": 4.5, "max": 5.0},
        "outcomes": {"CANCELLED/out_of_stock": 35, "CONFIRMED/-": 25},
        "expectedOutcomes": {"CANCELLED/out_of_stock": 35, "CONFIRMED/-": 25},
        "met": True,
        "lastOutcomeSeconds": 12.5,
        "peakWorkers": 14,
        "peakMemoryMb": 1500,
    }
    read = {"readers": 8, "seconds": 15.0, "gets": 900, "cpuMsPerGet": {"localCloud": 9.0, "orderApi": 4.0}}
    return {
        **_result(),
        "options": {"poll": {"first": 0.5, "factor": 1.5, "most": 2.0, "give_up": 120.0}},
        "levels": [level],
        "cold": cold,
        "readPath": read,
        "baseline": {
            "commit": "965cca3",
            "levels": [{**level, "completedPerMinute": 659.0, "workersStarted": 5}],
            "host": {"before": {"medianMs": 512.0}, "after": {"medianMs": 498.4}},
        },
        "host": {"before": {"medianMs": 347.6}, "after": {"medianMs": 351.0}},
    }


def test_the_clients_view_and_the_cold_level_are_reported(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    chart = report.chart(_client_result(), tmp_path / "throughput.png")

    report.write_docs(_client_result(), docs, chart)

    text = docs.read_text()
    assert (
        "| 16 | 1012 | 1.10 s | 1.90 s | 2.40 s | 3.00 s | 0.08 s | 0.05 s | 0.12 s | 2.4 | 31 | 0.70 s | 1.20 s "
        "| 0 | 50 | 70 | 0.84 | 80% | 0 |" in text
    )
    assert "one GET costs 9.0 ms of the local cloud's CPU" in text
    assert "none by its deadline: **met**" in text
    assert "**A/B against 965cca3**" in text and (
        "| 16 | 659 | 1012 | 1.90 s | 1.90 s | 120 | 120 | 0.55 | 0.84 | 5 | 0 |" in text
    )
    assert (
        "| 201: 60 | 60 | 0 | 2.00 s | 4.00 s | 5.00 s | CANCELLED/out_of_stock 35, CONFIRMED/- 25 | 12.5 s | 14 |"
        in text
    )
    assert report.summary(_client_result()).startswith("bench: 16 clients 1012/min p95 1.90 s; cold burst of 60: 60")
    # The machine's speed beside the figures, this run's and the baseline's (which ran first, and may differ).
    assert "**348 / 351 ms** before and after the levels; on the A/B's baseline run, just before, 512 / 498 ms" in text
    assert "; host loop 348 / 351 ms;" in report.summary(_client_result())
    assert "A saga time of `-`" not in text
    # A level whose clients saw every outcome before the saga view recorded it says why it has no saga time.
    lagging = _client_result()
    lagging["levels"] = [{**lagging["levels"][0], "sagaServerSide": {"p50": None, "p95": None}}]
    report.write_docs(lagging, docs, chart)
    assert "| 0.12 s | 2.4 | 31 | - | - | 0 |" in docs.read_text()
    assert "A saga time of `-`: the saga view had not yet recorded the order's end" in docs.read_text()


def test_the_host_probe_times_a_fixed_loop_in_a_fresh_interpreter(tmp_path: Path) -> None:
    speed = cpu.host_speed(repeats=3)
    assert speed["minMs"] <= speed["medianMs"] <= speed["maxMs"]
    # 3,000,000 additions take this machine 0.3 to 0.8 s; a probe that timed nothing would be near zero.
    assert speed["minMs"] > 20
    # The figure is the loop as the fresh interpreter timed it, not its start-up: a stand-in that takes 0.3 s
    # to start and reports 0.25 s is 250 ms.
    slow = tmp_path / "python"
    slow.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import time; time.sleep(0.3); print(0.25)'\n")
    slow.chmod(0o755)
    assert cpu.host_speed(repeats=1, python=str(slow)) == {"medianMs": 250.0, "minMs": 250.0, "maxMs": 250.0}

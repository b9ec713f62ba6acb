"""The benchmark's request accounting, loaded into every Lambda worker of the benchmark's own local cloud.

`make bench` starts that local cloud with this folder on PYTHONPATH and SHOP_BENCH_ACCOUNTING naming a
file, so Python imports this module in each worker process at start. It never runs anywhere else: not on
AWS, not in the demo's or the tests' local clouds, and nothing in the project imports it.

In a Lambda worker (AWS_LAMBDA_FUNCTION_NAME set) it appends one JSON line to that file
- per invocation of the handler (`lambda_handler` of the module the worker imports): its duration in
  the handler, the CPU the handler's thread used (`cpu`) and of it the CPU inside AWS calls (`sdkCpu`:
  botocore building, signing and sending the request and parsing the answer), and how many records its
  event carried (an SQS or stream batch); once per worker the time the handler module took to import (the
  cold start's import);
- per AWS call the function makes, once botocore.client is imported (so it changes no import order):
  service, operation, the CPU it took (`cpu`), PutEvents entries with their detail types, the DynamoDB
  read and write units (it asks DynamoDB for its consumed capacity), the error code.
CPU is the calling thread's (`time.thread_time`), so waiting for the local cloud's answer is not in it,
and neither is this module's own writing of its lines.
`tools.bench.accounting` reads the file.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
from typing import Any

_PATH = os.environ.get("SHOP_BENCH_ACCOUNTING")
_FUNCTION = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
# The DynamoDB operations that take ReturnConsumedCapacity.
_CAPACITY_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
}


_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
# CPU seconds this worker has spent so far inside AWS calls ("sdk") and writing accounting lines ("hook");
# a worker runs one invocation at a time.
_spent = {"sdk": 0.0, "hook": 0.0}


def units(operation_name: str, consumed: Any) -> tuple[float, float]:
    """(read units, write units) of a ConsumedCapacity answer: one entry or a list of them (per table).

    An entry with only the total counts as read units for a read operation and write units otherwise.
    """
    entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
    reads = writes = 0.0
    for entry in entries:
        read, write = entry.get("ReadCapacityUnits"), entry.get("WriteCapacityUnits")
        if read is None and write is None:
            total = float(entry.get("CapacityUnits", 0) or 0)
            read, write = (total, 0.0) if operation_name in _READS else (0.0, total)
        reads += float(read or 0)
        writes += float(write or 0)
    return reads, writes


def _table_of(params: dict[str, Any]) -> str | None:
    """The table a DynamoDB call names (a transaction's first item's; this project's stay in one table)."""
    if "TableName" in params:
        return str(params["TableName"])
    for group in ("TransactItems", "RequestItems"):
        found = params.get(group)
        if isinstance(found, dict) and found:
            return str(next(iter(found)))
        if isinstance(found, list) and found:
            action = next(iter(found[0].values()))
            return str(action.get("TableName")) if isinstance(action, dict) else None
    return None


def record(line: dict[str, Any]) -> None:
    """Append one accounting line (one write call with O_APPEND, so concurrent workers never interleave)."""
    if not _PATH:
        return
    started = time.thread_time()
    data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
    descriptor = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
        _spent["hook"] += time.thread_time() - started


def install(client_module: Any) -> None:
    """Wrap `botocore.client.BaseClient._make_api_call` so each call is recorded."""
    base = client_module.BaseClient
    if getattr(base._make_api_call, "_bench_accounted", False):
        return
    original = base._make_api_call

    def accounted(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        params = api_params
        asked = service == "dynamodb" and operation_name in _CAPACITY_OPERATIONS
        if asked and "ReturnConsumedCapacity" not in params:
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        line: dict[str, Any] = {"t": time.time(), "fn": _FUNCTION, "svc": service, "op": operation_name}
        if service == "dynamodb":
            line["table"] = _table_of(params)
        if service == "events" and operation_name == "PutEvents":
            line["types"] = [str(entry.get("DetailType")) for entry in params.get("Entries", [])]
        cpu_started = time.thread_time()
        try:
            response = original(self, operation_name, params)
        except Exception as exc:
            _took_cpu(line, cpu_started)
            error = getattr(exc, "response", {}) or {}
            line["err"] = (error.get("Error") or {}).get("Code") or type(exc).__name__
            if asked:
                consumed = error.get("ConsumedCapacity")
                if consumed:
                    line["rcu"], line["wcu"] = units(operation_name, consumed)
            record(line)
            raise
        _took_cpu(line, cpu_started)
        if asked:
            line["rcu"], line["wcu"] = units(operation_name, response.get("ConsumedCapacity"))
        if service == "events" and operation_name == "PutEvents":
            line["failed"] = int(response.get("FailedEntryCount", 0) or 0)
        record(line)
        return response

    accounted._bench_accounted = True  # type: ignore[attr-defined]
    base._make_api_call = accounted


def _took_cpu(line: dict[str, Any], started: float) -> None:
    took = time.thread_time() - started
    _spent["sdk"] += took
    line["cpu"] = round(took * 1000, 3)


def wrap_handler(module: Any) -> None:
    """Record each invocation of `module.lambda_handler` (every handler of this project has that name)."""
    handler = getattr(module, "lambda_handler", None)
    if handler is None or getattr(handler, "_bench_accounted", False):
        return

    def accounted(event: Any, context: Any) -> Any:
        started, cpu_started, spent = time.perf_counter(), time.thread_time(), dict(_spent)
        error = None
        try:
            return handler(event, context)
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            line: dict[str, Any] = {"t": time.time(), "fn": _FUNCTION, "svc": "lambda", "op": "Invoke"}
            line["ms"] = round((time.perf_counter() - started) * 1000, 3)
            hook = _spent["hook"] - spent["hook"]
            line["cpu"] = round((time.thread_time() - cpu_started - hook) * 1000, 3)
            line["sdkCpu"] = round((_spent["sdk"] - spent["sdk"]) * 1000, 3)
            line["records"] = len(event.get("Records", [])) if isinstance(event, dict) else 0
            if error:
                line["err"] = error
            record(line)

    accounted._bench_accounted = True  # type: ignore[attr-defined]
    module.lambda_handler = accounted


def _watch_handler_import() -> None:
    # The worker imports the handler's module with importlib.import_module and then looks the handler up.
    original = importlib.import_module

    def import_module(name: str, package: str | None = None) -> Any:
        started = time.perf_counter()
        fresh = name not in sys.modules
        module = original(name, package)
        if hasattr(module, "lambda_handler") and not getattr(module.lambda_handler, "_bench_accounted", False):
            if fresh:
                took = round((time.perf_counter() - started) * 1000, 3)
                record({"t": time.time(), "fn": _FUNCTION, "svc": "lambda", "op": "Init", "ms": took})
            wrap_handler(module)
        return module

    importlib.import_module = import_module


class _AfterBotocoreClient(importlib.abc.MetaPathFinder):
    """Patches botocore.client right after it is first imported, wherever it is imported from."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "botocore.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: Any) -> None:
            original_exec(module)
            install(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if _PATH and _FUNCTION:
    sys.meta_path.insert(0, _AfterBotocoreClient())
    _watch_handler_import()

"""The local cloud's server: ministack as its own command runs it, with AWS's guards and emulator faults mended.

Started by `python -m tools.dev.localcloud start` in place of the plain `ministack` command, on ministack's
own interpreter (`.venvs/ministack/bin/python tools/dev/localcloud_server.py`), so it imports nothing but the
standard library, ministack and the HTTP server that serves it.

**Served by uvicorn with httptools and uvloop** (`LOCAL_HTTP_SERVER=hypercorn` for ministack's own server,
to measure it). ministack is an ASGI application that its command serves with hypercorn, whose HTTP/1.1
is h11, parsed in Python: every AWS call a function makes, every delivery and every client request goes
through it, in the one process that also emulates every service. Measured on this machine (botocore
`PutItem`s and `GetItem`s from 8 threads, the server's own CPU): 1.22 ms a request under hypercorn, 0.53-0.83
under uvicorn (its C parser, httptools, and uvloop's event loop; 0.68-0.91 on asyncio's own loop). The
application is the same module either way (`ministack.app:app`); what hypercorn's command adds is kept:
no `Server` and no second `Date` header (the application adds its own), header names spelt as the
application gave them (`ETag`, not uvicorn's `etag`: `HeaderName`), the peer's address as it connected (no
proxy headers), keep-alive for 75 s and the open-files limit raised to its hard limit.

**A fault mended, always.** CloudFormation hands an SQS event source mapping's
`ScalingConfig.MaximumConcurrency` from a template parameter to the emulator as a string; its poller then
compares it with an int and raises, once a second, for every queue of every stack after that mapping in
its loop (`'>=' not supported between instances of 'int' and 'str'`): consumers silently never receive
anything. AWS's CloudFormation passes the number. The poller's limit is read as an int here.

**An invocation answered when it ends, where asked** (`LOCAL_MEND_LOG_DRAIN=1`; `make bench` sets it).
ministack collects an invocation's log after its answer has arrived, by polling the worker's stderr every millisecond
until no line has come for 5 ms, or for 50 ms when none came at all: an invocation that prints nothing (the
order API's, at the WARNING level AWS gets) held its worker, and its caller, 50 ms past its end, and the
polling cost the emulator's one process CPU. Measured with the benchmark's read path (8 customers
asking for their orders back to back for 15 s): 932 and 952 GETs without this mend, 5,478 with it, and
6.3 -> 2.2 ms of the local cloud's CPU per GET. AWS has no such wait: a function's output goes to
CloudWatch Logs beside the invocation, never before its answer. Here each Python worker writes a mark on
stderr after each invocation's output and before its answer, and the log is everything before the mark.
Not yet on by default: with it, two of four full end-to-end runs failed
`test_a_refund_dead_lettered_without_a_word_is_reported_from_its_queue_then_redriven` (the dead-letter
reporter's report not seen within 180 s) while the same test passed alone with and without it; until that
is understood, everything but the benchmark runs on ministack's own drain.

**Workers a function may have at once, bounded** (`LOCAL_WORKERS_PER_FUNCTION`, 0 for none). ministack
starts a worker process for every invocation that finds all of its function's workers busy, without
bound: a burst of 60 orders on a fresh stack started 60 order-API workers at once, each importing its
handler on the same two cores, and none answered within a minute (docs/benchmarks.md). AWS gives each
concurrent invocation an execution environment of its own, on its own CPU; on one machine the honest
equivalent is a queue: an invocation that finds its function's workers all busy and at the bound waits
for one to be free (up to `LOCAL_WORKER_WAIT_SECONDS`, then it starts one anyway, so a handler that
invokes its own function cannot deadlock).

**Each archive a worker starts from, unpacked once** (always; `LOCAL_UNPACK_ONCE=0` for ministack's
own way, to measure it). ministack writes a function's package and each of its layers to the new worker's
folder and unpacks them there, in its one process, for every worker it starts: the dependencies layer is
12 MB of zip and 1,737 files, 0.6-2.3 s of that process's CPU each time on this machine, and a cold
burst starts 26 workers: 26 times that, unpacking the same archive while its requests waited. Here each
distinct archive (by the SHA-256 of its bytes) is unpacked once into the local cloud's temporary folder,
and a worker's folder links to it; a worker's package and layers are read-only
where Lambda runs them (`/var/task`, `/opt`), so sharing one copy changes nothing a function can see. AWS
unpacks a layer once per execution environment, in that environment, never in a process every request
passes through.

**AWS's guards, with `AUTH=true`** (`start --auth`). ministack then evaluates every call against
the caller's IAM policies (each Lambda as its own execution role), but it fills in no service condition
keys: a grant conditioned on `events:source` is denied whatever the source, and one conditioned on
`dynamodb:LeadingKeys` is allowed whatever the key (an absent key satisfies `ForAllValues`). This launcher
fills in, from each request, the keys AWS documents for the calls this project makes, so that ministack's
own evaluator judges the production template's conditions as AWS does:

- `events:source` and `events:detail-type` of a `PutEvents` (one value when every entry agrees);
- `dynamodb:LeadingKeys`, the partition keys a request names (`Key`, `Item`, `RequestItems`,
  `TransactItems`, and a `Query`'s key condition on the partition key);
- `kms:EncryptionContext:<key>` and `kms:EncryptionContextKeys` of a KMS call;

it authorises SQS's batch calls by their single call's action (`sqs:ChangeMessageVisibilityBatch` as
`sqs:ChangeMessageVisibility`, and so for `DeleteMessageBatch` and `SendMessageBatch`), as AWS does and
ministack does not (it evaluates an action no policy can name usefully); it checks `iam:PassRole` (with
`iam:PassedToService`) on the role a `scheduler:CreateSchedule` hands
to the Scheduler, as AWS does and ministack does not; and it authorises `events:PutTargets` and
`events:RemoveTargets` on the rule they name, as AWS does, where ministack checks them on the bus.

With `MINISTACK_IAM_LOG=<file>` (and AUTH) it appends one JSON line per decision: the caller's principal, the
action, the resource, the condition keys it carried and the decision. `tools.dev.iam_report` reads that
file to check every call each function made against its role (docs/decisions.md, 2026-12-06).
Version-bound: measured against ministack 1.5.33 (requirements/ministack.txt pins it); `start` refuses
any other version rather than guess.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import queue
import re
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

MEASURED_VERSION = "1.5.33"

# What the current request's body says that a later check needs (the role a schedule is handed).
_request_body: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("guards_body", default=None)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _one_or_all(values: list[str]) -> str | list[str] | None:
    distinct = sorted(set(values))
    if not distinct:
        return None
    # One value when the request agrees; several stay a list, which a single-valued operator
    # (StringEquals) never matches, so a mixed request passes only a grant of every value it names.
    return distinct[0] if len(distinct) == 1 else distinct


def _scalar(attribute: Any) -> str | None:
    """The value of a DynamoDB-typed key attribute ({"S": "..."} or {"N": "..."})."""
    if isinstance(attribute, dict) and len(attribute) == 1:
        value = next(iter(attribute.values()))
        return value if isinstance(value, str) else None
    return None


def _partition_key_name(table_name: str) -> str | None:
    try:
        from ministack.services import dynamodb  # type: ignore[import-not-found]

        table = dynamodb._tables.get(table_name)
    except Exception:  # the emulator's internals moved: fall back to keys of one attribute
        return None
    for element in (table or {}).get("KeySchema", []):
        if element.get("KeyType") == "HASH":
            return str(element.get("AttributeName"))
    return None


def _leading_key(table_name: str, key: Any) -> str | None:
    if not isinstance(key, dict) or not key:
        return None
    name = _partition_key_name(table_name)
    if name is None:
        return _scalar(next(iter(key.values()))) if len(key) == 1 else None
    return _scalar(key.get(name))


def _query_leading_key(data: dict[str, Any]) -> str | None:
    table = str(data.get("TableName", ""))
    if data.get("IndexName"):
        return None  # an index's partition key is not the table's: AWS fills in none for it
    name = _partition_key_name(table)
    expression = str(data.get("KeyConditionExpression", ""))
    names = data.get("ExpressionAttributeNames") or {}
    values = data.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#\w]+)\s*=\s*(:\w+)", expression):
        if names.get(left, left) == name:
            return _scalar(values.get(right))
    return None


def dynamodb_leading_keys(data: dict[str, Any]) -> list[str]:
    """The partition key values a DynamoDB request names, as AWS's dynamodb:LeadingKeys."""
    found: list[str | None] = []
    table = str(data.get("TableName", ""))
    if "Key" in data:
        found.append(_leading_key(table, data["Key"]))
    if "Item" in data:
        found.append(_leading_key(table, data["Item"]))
    if "KeyConditionExpression" in data:
        found.append(_query_leading_key(data))
    for name, requests in (data.get("RequestItems") or {}).items():
        if isinstance(requests, dict):  # BatchGetItem
            found += [_leading_key(name, key) for key in requests.get("Keys", [])]
            continue
        for request in requests if isinstance(requests, list) else []:
            for kind, field in (("PutRequest", "Item"), ("DeleteRequest", "Key")):
                if kind in request:
                    found.append(_leading_key(name, request[kind].get(field)))
    for item in data.get("TransactItems") or []:
        for operation in item.values() if isinstance(item, dict) else []:
            if isinstance(operation, dict):
                name = str(operation.get("TableName", ""))
                found.append(_leading_key(name, operation.get("Key", operation.get("Item"))))
    return sorted({key for key in found if key is not None})


def aws_condition_keys(service: str, iam_action: str, data: dict[str, Any]) -> dict[str, Any]:
    """The service condition keys AWS fills in for this request and ministack does not (lower case)."""
    keys: dict[str, Any] = {}
    if service == "events" and iam_action == "events:PutEvents":
        entries = [entry for entry in data.get("Entries") or [] if isinstance(entry, dict)]
        keys["events:source"] = _one_or_all([str(entry.get("Source", "")) for entry in entries])
        keys["events:detail-type"] = _one_or_all([str(entry.get("DetailType", "")) for entry in entries])
    elif service == "dynamodb":
        leading = dynamodb_leading_keys(data)
        if leading:
            keys["dynamodb:leadingkeys"] = leading
    elif service == "kms":
        context = data.get("EncryptionContext")
        if isinstance(context, dict) and context:
            keys.update({f"kms:encryptioncontext:{name}".lower(): str(value) for name, value in context.items()})
            keys["kms:encryptioncontextkeys"] = sorted(context)
    return {key: value for key, value in keys.items() if value is not None}


class DecisionLog:
    """Appends one JSON line per IAM decision to a file (thread-safe; the emulator serves on threads too)."""

    def __init__(self, path: str) -> None:
        self._file = Path(path).open("a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the process's life
        self._lock = threading.Lock()
        self._principals: dict[str, str] = {}

    def principal(self, access_key: str | None) -> str:
        if not access_key:
            return "anonymous"
        if access_key not in self._principals:
            from ministack.core import iam_evaluator  # type: ignore[import-not-found]

            identity = iam_evaluator.resolve_caller_identity(access_key) or {}
            self._principals[access_key] = str(identity.get("userArn") or f"unknown-key/{access_key}")
        return self._principals[access_key]

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str, sort_keys=True)
        with self._lock:
            self._file.write(line + "\n")


# AWS authorises each SQS batch call by its single call's action; there is no IAM action of the batch's name.
_SQS_BATCH_ACTIONS = {
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:SendMessageBatch": "sqs:SendMessage",
}


def iam_action_of(action: str) -> str:
    """The IAM action AWS authorises a call by."""
    return _SQS_BATCH_ACTIONS.get(action, action)


def _decision(result: Any) -> str:
    if result is None:
        return "Allow"
    if hasattr(result, "decision"):
        return str(result.decision)
    return f"AuthError:{getattr(result, 'code', '?')}"  # the credentials failed before any policy


def bound_workers(per_function: int, wait_seconds: float) -> None:
    """At most `per_function` workers of one function: a further invocation waits for one (module docstring)."""
    from ministack.services import lambda_svc  # type: ignore[import-not-found]

    acquire, release = lambda_svc.acquire_worker, lambda_svc.release_worker
    freed = threading.Condition()

    def acquire_bounded(func_name: str, config: Any, code_zip: Any, qualifier: str = "$LATEST", **kw: Any) -> Any:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            worker, reason = acquire(func_name, config, code_zip, qualifier=qualifier, max_concurrency=per_function)
            if worker is not None or reason != "func_cap":
                return worker, reason
            with freed:
                freed.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        return acquire(func_name, config, code_zip, qualifier=qualifier, **kw)

    def release_and_tell(worker: Any) -> None:
        release(worker)
        with freed:
            freed.notify_all()

    lambda_svc.acquire_worker = acquire_bounded
    lambda_svc.release_worker = release_and_tell


# What a Python worker writes on its stderr once an invocation's output is complete: NULs, so never a log line.
END_OF_INVOCATION = "\x00ministack-invocation-end\x00"
# The worker's last statements for an invocation: its answer, written and then flushed to ministack.
_WORKER_ANSWER_FLUSH = "        _real_stdout.flush()\n\nrun()"


def worker_script_marking_the_end(script: str) -> str:
    """The Python worker's script, writing END_OF_INVOCATION to stderr before it sends each answer."""
    if script.count(_WORKER_ANSWER_FLUSH) != 1:
        raise SystemExit("ministack's Python worker no longer ends an invocation as measured: re-measure the mend")
    mark = f'        sys.__stderr__.write({END_OF_INVOCATION!r} + "\\n")\n        sys.__stderr__.flush()\n'
    return script.replace(_WORKER_ANSWER_FLUSH, mark + _WORKER_ANSWER_FLUSH)


def invocation_log(lines: queue.Queue[str], hard_cap: float) -> str:
    """The stderr lines up to END_OF_INVOCATION (or `hard_cap` seconds, for a worker that died before it)."""
    collected: list[str] = []
    deadline = time.monotonic() + hard_cap
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        text, marked, _ = line.partition(END_OF_INVOCATION)
        if text or not marked:  # a last line written without a newline arrives joined to the mark
            collected.append(text)
        if marked:
            break
    return "\n".join(collected)


def mend_log_drain() -> None:
    """An invocation that logs nothing is answered when it ends, not 50 ms later (module docstring)."""
    from ministack.core import lambda_runtime  # type: ignore[import-not-found]

    lambda_runtime._PYTHON_WORKER_SCRIPT = worker_script_marking_the_end(lambda_runtime._PYTHON_WORKER_SCRIPT)
    original = lambda_runtime.Worker._drain_stderr_bounded

    def drain(self: Any, first_line_wait: float = 0.050, idle_confirm: float = 0.005, hard_cap: float = 0.250) -> str:
        python = str(self.config.get("Runtime", "python")).startswith("python")
        if type(self) is not lambda_runtime.Worker or not python:  # only the Python worker writes the mark
            return str(original(self, first_line_wait, idle_confirm, hard_cap))
        return invocation_log(self._stderr_queue, hard_cap)

    lambda_runtime.Worker._drain_stderr_bounded = drain


class _UnpackedArchive:
    """One archive as ministack's worker start uses `zipfile.ZipFile`: `namelist()`, then `extractall(folder)`."""

    def __init__(self, path: str | os.PathLike[str], cache: Path, lock: threading.Lock) -> None:
        self._path = Path(path)
        self._lock = lock
        self.unpacked = cache / hashlib.sha256(self._path.read_bytes()).hexdigest()

    def __enter__(self) -> _UnpackedArchive:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def namelist(self) -> list[str]:
        """The members ministack checks stay inside their folder; none for one checked when it was unpacked."""
        if self.unpacked.is_dir():
            return []
        with zipfile.ZipFile(self._path) as archive:
            return archive.namelist()

    def extractall(self, folder: str | os.PathLike[str]) -> None:
        """`folder` (empty, as ministack made it) becomes a link to the archive's one unpacked copy."""
        with self._lock:
            if not self.unpacked.is_dir():
                partial = Path(tempfile.mkdtemp(dir=self.unpacked.parent, prefix=".unpacking-"))
                with zipfile.ZipFile(self._path) as archive:
                    archive.extractall(partial)
                partial.rename(self.unpacked)
        Path(folder).rmdir()
        Path(folder).symlink_to(self.unpacked, target_is_directory=True)


class UnpackOnce:
    """Stands for the `zipfile` module in ministack's worker start (module docstring)."""

    # ministack names `zipfile.LargeFileError`, which no zipfile has (it is LargeZipFile): only evaluated
    # when unpacking fails, where it would raise AttributeError in place of its own message.
    LargeFileError = zipfile.LargeZipFile

    def __init__(self, cache: Path) -> None:
        cache.mkdir(parents=True, exist_ok=True)
        self._cache = cache
        self._lock = threading.Lock()

    def ZipFile(self, path: str | os.PathLike[str]) -> _UnpackedArchive:
        return _UnpackedArchive(path, self._cache, self._lock)

    def __getattr__(self, name: str) -> Any:
        return getattr(zipfile, name)


def mend_unpacking(cache: Path) -> None:
    """A worker links to its package and layers, each unpacked once under `cache` (module docstring)."""
    from ministack.core import lambda_runtime  # type: ignore[import-not-found]

    lambda_runtime.zipfile = UnpackOnce(cache)


# ministack is imported where it is patched, so that the request-reading functions above can be tested on
# the project's own interpreter (tests/component/test_localcloud_server.py).


def mend_scaling_config() -> None:
    """Read an SQS mapping's MaximumConcurrency as the number CloudFormation meant (module docstring)."""
    from ministack.services import lambda_svc  # type: ignore[import-not-found]

    original = lambda_svc._sqs_esm_concurrency

    def concurrency(esm: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        scaling = esm.get("ScalingConfig") or {}
        limit = scaling.get("MaximumConcurrency")
        if isinstance(limit, str) and limit.isdigit():
            esm = {**esm, "ScalingConfig": {**scaling, "MaximumConcurrency": int(limit)}}
        return original(esm, *args, **kwargs)

    lambda_svc._sqs_esm_concurrency = concurrency


def install_guards(log: DecisionLog | None) -> None:
    """Wrap ministack's request-context builder, its resource names and its enforcement point."""
    from ministack.core import iam_actions, iam_evaluator  # type: ignore[import-not-found]

    original_context = iam_actions.request_tag_context
    original_enforce = iam_evaluator.enforce
    original_resource = iam_actions.extract_resource_arn

    def extract_resource_arn(  # noqa: PLR0917 - ministack's own signature
        service: str,
        method: str,
        path: str,
        headers: dict[str, Any],
        body: bytes,
        query_params: dict[str, Any],
        region: str,
        account_id: str,
    ) -> str:
        data = _json(body) if service == "events" else {}
        if isinstance(data.get("Rule"), str):  # PutTargets, RemoveTargets, ListTargetsByRule: the rule
            bus = str(data.get("EventBusName") or "default").rsplit("/", 1)[-1]
            return f"arn:aws:events:{region}:{account_id}:rule/{bus}/{data['Rule']}"
        return str(original_resource(service, method, path, headers, body, query_params, region, account_id))

    def request_tag_context(service: str, iam_action: str, body: bytes, params: dict[str, Any]) -> dict[str, Any]:
        data = _json(body)
        _request_body.set(data)
        return {**aws_condition_keys(service, iam_action, data), **original_context(service, iam_action, body, params)}

    def enforce(  # noqa: PLR0917 - ministack's own signature
        access_key_id: str,
        iam_action: str,
        service: str,
        region: str,
        resource_arn: str = "*",
        service_context: dict[str, Any] | None = None,
    ) -> Any:
        iam_action = iam_action_of(iam_action)
        result = original_enforce(access_key_id, iam_action, service, region, resource_arn, service_context)
        _record(access_key_id, iam_action, resource_arn, service_context, result)
        if result is None and iam_action == "scheduler:CreateSchedule":
            # AWS also authorises handing the schedule its role: iam:PassRole on that role.
            role = ((_request_body.get() or {}).get("Target") or {}).get("RoleArn")
            if role:
                context = {"iam:PassedToService": "scheduler.amazonaws.com"}
                result = original_enforce(access_key_id, "iam:PassRole", "iam", region, role, context)
                _record(access_key_id, "iam:PassRole", role, context, result)
        return result

    def _record(key: str, action: str, resource: str, context: dict[str, Any] | None, result: Any) -> None:
        if log is None:
            return
        shown = {
            name: value
            for name, value in (context or {}).items()
            if value is not None and not name.startswith("aws:")  # the global keys are the same for every call
        }
        log.write(
            {
                "at": round(time.time(), 3),
                "principal": log.principal(key),
                "action": action,
                "resource": resource,
                "context": shown,
                "decision": _decision(result),
            }
        )

    iam_actions.request_tag_context = request_tag_context
    iam_actions.extract_resource_arn = extract_resource_arn
    iam_evaluator.enforce = enforce


def main() -> None:
    """Mend, install the guards when IAM is enforced, then run ministack as its own command would."""
    import ministack  # type: ignore[import-not-found]

    version = getattr(ministack, "__version__", None) or _installed_version()
    if version != MEASURED_VERSION:
        sys.exit(
            f"tools/dev/localcloud_server.py was measured against ministack {MEASURED_VERSION}, found {version}: "
            "re-measure what it mends and fills in (docs/decisions.md) before moving the pin"
        )
    mend_scaling_config()
    if os.environ.get("LOCAL_UNPACK_ONCE", "1") != "0":
        mend_unpacking(Path(tempfile.gettempdir()) / "ministack-unpacked")
    if os.environ.get("LOCAL_MEND_LOG_DRAIN", "0") == "1":
        mend_log_drain()
    if (per_function := int(os.environ.get("LOCAL_WORKERS_PER_FUNCTION", "0") or 0)) > 0:
        bound_workers(per_function, float(os.environ.get("LOCAL_WORKER_WAIT_SECONDS", "25")))
    if os.environ.get("AUTH", "").lower() == "true":
        path = os.environ.get("MINISTACK_IAM_LOG")
        install_guards(DecisionLog(path) if path else None)
    if os.environ.get("LOCAL_HTTP_SERVER", "uvicorn") == "hypercorn":
        from ministack.app import main as ministack_main  # type: ignore[import-not-found]

        sys.argv = ["ministack"]
        ministack_main()
        return
    serve_with_uvicorn()


class HeaderName(bytes):
    """A response header's name as the application gave it (`ETag`), which uvicorn compares in lower case.

    uvicorn's httptools protocol lowercases every response header name it writes (`name = name.lower()`,
    then compares it with `b"content-length"` and the like), so `ETag` would reach a client as `etag`. AWS,
    and hypercorn before, send names as the application gave them; HTTP says they are case-insensitive, yet
    a client reading a plain dict of them (this project's own `ApiClient` did, and so do scripts like it)
    breaks on the change. This name's `lower()` is itself, and it equals any spelling of itself, so
    uvicorn's checks still recognise it and the bytes it writes keep the application's spelling.
    """

    def lower(self) -> bytes:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, bytes) and bytes.lower(self) == bytes.lower(other)

    def __hash__(self) -> int:
        return hash(bytes.lower(self))


def names_as_given(app: Any) -> Any:
    """The ASGI application `app`, its responses' header names wrapped as `HeaderName`s."""

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_names_as_given(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(HeaderName(name), value) for name, value in message.get("headers", [])]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_names_as_given)

    return application


def serve_with_uvicorn() -> None:
    """Serve ministack's application as its command does (module docstring), on uvicorn."""
    import resource

    import uvicorn  # type: ignore[import-not-found]
    from ministack import app as ministack_app  # type: ignore[import-not-found]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # so that a burst of connections does not stop at 1,024
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvicorn.run(
        names_as_given(ministack_app.app),
        host=os.environ.get("BIND_HOST", "0.0.0.0"),
        port=int(ministack_app._resolve_port()),
        http="httptools",
        loop="uvloop",
        lifespan="on",
        access_log=False,
        log_level=os.environ.get("LOG_LEVEL", "INFO").lower(),
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_keep_alive=75,
        timeout_graceful_shutdown=3,  # as hypercorn's default: a long poll in flight does not hold a stop
    )


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ministack")
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()

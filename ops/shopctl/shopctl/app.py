"""shopctl, the operator's CLI (`shopctl --help` lists the commands): the commands and how they print.

The reads and writes themselves are in ops/shopctl/shopctl/shop.py.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, PartialCredentialsError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from shopctl.shop import BusTail, Shop, use_cloud

HELP = """The shop's operator CLI: the same commands against the local cloud (the default) and AWS.

\b
  shopctl order place PROD-001:2 --token tok_ok   place an order, watch its saga live
  shopctl order show ID | order watch ID
  shopctl sagas stuck | sagas failed               stalest first, from the projector's index
  shopctl saga cancel ID                           cancel an in-flight order; it is compensated
  shopctl dlq list | dlq show CONSUMER | dlq redrive [CONSUMER] [--since T] [--until T] [--dry-run]
  shopctl outbox republish [--older-than 60]
  shopctl bus tail [--type OrderCreated ...]       a temporary subscription, removed on exit
  shopctl logs PaymentOnOrderCreatedFunction [--since 1h] [--contains ORDER_ID]
  shopctl products show ID | set ID ... | restock ID --quantity N   (SigV4-signed)

AWS: --profile/--region (and --stack). Another local cloud: --endpoint. Listings take --json.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None)
order_app = typer.Typer(help="Place, show and watch orders.", no_args_is_help=True)
sagas_app = typer.Typer(help="Sagas that need an operator.", no_args_is_help=True)
saga_app = typer.Typer(help="One saga: cancel it.", no_args_is_help=True)
dlq_app = typer.Typer(help="Consumers' dead-letter queues.", no_args_is_help=True)
outbox_app = typer.Typer(help="The services' outboxes.", no_args_is_help=True)
bus_app = typer.Typer(help="The event bus.", no_args_is_help=True)
products_app = typer.Typer(help="The catalogue (operator calls, SigV4-signed).", no_args_is_help=True)
for name, sub in (
    ("order", order_app),
    ("sagas", sagas_app),
    ("saga", saga_app),
    ("dlq", dlq_app),
    ("outbox", outbox_app),
    ("bus", bus_app),
    ("products", products_app),
):
    app.add_typer(sub, name=name)

console = Console()
errors = Console(stderr=True)
STATE: dict[str, Any] = {}
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def target(
    stack: Annotated[str, typer.Option(help="The shop stack.")] = "shop-saga",
    profile: Annotated[str | None, typer.Option(help="AWS profile: talk to AWS instead of the local cloud.")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region (AWS).")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Local cloud endpoint (default http://127.0.0.1:4566).")] = None,
) -> None:
    """Which cloud and which stack every command talks to."""
    STATE["where"] = use_cloud(profile=profile, region=region, endpoint=endpoint)
    STATE["shop"] = Shop(stack)


def shop() -> Shop:
    return STATE["shop"]  # type: ignore[no-any-return]


def fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


# -- orders ----------------------------------------------------------------------------------------


def _order_tables(order_id: str) -> tuple[Table, Table] | None:
    order, saga = shop().order(order_id), shop().saga(order_id)
    if order is None and saga is None:
        return None
    summary = Table(title=f"order {order_id}", show_header=False)
    summary.add_row("status", str((order or {}).get("status", "?")))
    summary.add_row("reason", str((order or {}).get("cancellationReason") or "-"))
    summary.add_row("total", f"{(order or {}).get('totalAmount', '?')} {(order or {}).get('currency', '')}")
    summary.add_row("saga", str((saga or {}).get("status", "not projected yet")))
    summary.add_row("waiting for", waiting_for(order, saga))
    for name, value in timing(order, datetime.now(UTC)).items():
        summary.add_row(name, value)
    if saga and saga.get("failureReason"):
        summary.add_row("saga failure", str(saga["failureReason"]))
    for step in (saga or {}).get("steps", []):
        summary.add_row(f"  {step['name']}", f"{step['status']} at {step['at']}")
    timeline = Table(title="timeline")
    for column in ("at", "event", "event id"):
        timeline.add_column(column)
    for entry in (saga or {}).get("timeline", []):
        timeline.add_row(entry["occurredAt"], entry["type"], entry["eventId"])
    return summary, timeline


def waiting_for(order: dict[str, Any] | None, saga: dict[str, Any] | None) -> str:
    """What the saga waits for next, as its view stands ("-" once nothing is left)."""
    status = (order or {}).get("status") or (saga or {}).get("status")
    steps = {step["name"]: step["status"] for step in (saga or {}).get("steps", [])}
    if status == "PENDING":
        if "payment" not in steps:
            return "the payment service to charge (PaymentProcessed or PaymentFailed)"
        if "inventory" not in steps:
            return "the inventory service to reserve stock (InventoryReserved or InventoryFailed)"
        return "the order service to decide (OrderConfirmed or OrderCancelled)"
    if status == "CANCELLED":
        undo = []
        if steps.get("payment") == "CHARGED":
            undo.append("the refund (PaymentRefunded)")
        if steps.get("inventory") == "RESERVED":
            undo.append("the release of stock (InventoryReleased)")
        if steps.get("payment") in {"REFUND_FAILED"} or steps.get("inventory") == "RELEASE_FAILED":
            undo.append("an operator: a compensation failed (shopctl sagas failed)")
        return ", ".join(undo) or "-"
    return "-" if status else "the order's first event"


def _age(seconds: float) -> str:
    seconds = int(abs(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def timing(order: dict[str, Any] | None, now: datetime) -> dict[str, str]:
    """Elapsed since the order was placed, and its deadline while it is open."""
    if not order or "createdAt" not in order:
        return {}
    created = datetime.fromisoformat(str(order["createdAt"]).replace("Z", "+00:00"))
    rows = {"since placed": _age((now - created).total_seconds())}
    if order.get("deadline") and order.get("status") == "PENDING":
        deadline = datetime.fromisoformat(str(order["deadline"]).replace("Z", "+00:00"))
        left = (deadline - now).total_seconds()
        when = f"in {_age(left)}" if left > 0 else f"passed {_age(left)} ago (the order is cancelled as timeout)"
        rows["deadline"] = f"{deadline.isoformat(timespec='seconds')}, {when}"
    return rows


def _render(order_id: str) -> Any:
    from rich.console import Group

    tables = _order_tables(order_id)
    return Group(*tables) if tables else f"order {order_id}: not found (yet)"


def _watch(order_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with Live(_render(order_id), console=console, refresh_per_second=4) as live:
        while time.monotonic() < deadline:
            settled = shop().settled(order_id)
            live.update(_render(order_id))  # rendered after the check, so the last frame shows the end
            if settled:
                return True
            time.sleep(0.5)
    return False


@order_app.command("place")
def order_place(
    lines: Annotated[list[str], typer.Argument(help="PRODUCT:QUANTITY, one per line of the order")],
    token: Annotated[str, typer.Option(help="Payment token (a simulator stack: tok_ok, tok_decline, ...).")] = "tok_ok",
    email: Annotated[str, typer.Option(help="The customer (created in the user pool if need be).")] = "",
    watch: Annotated[bool, typer.Option(help="Watch the saga live until it ends.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to watch.")] = 120,
) -> None:
    """Place an order as a customer (priced by the server), then show its saga live until it ends."""
    items = []
    for line in lines:
        product, _, quantity = line.partition(":")
        if not product or not quantity.isdigit():
            raise fail(f"{line!r} is not PRODUCT:QUANTITY (e.g. PROD-001:2)")
        items.append({"productId": product, "quantity": int(quantity)})
    customer = shop().customer(email or f"shopctl@{shop().stack}.example", "Shopctl-Passw0rd-long")
    answer = customer.call(
        "POST", "/orders", {"items": items, "payment": {"token": token}}, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    if answer.status != 201:
        raise fail(f"the order was refused: {refusal(answer.status, answer.body)}")
    order_id = str(answer.body["orderId"])
    console.print(f"placed order [bold]{order_id}[/bold] on {STATE['where']}")
    if watch and not _watch(order_id, timeout):
        raise fail(f"order {order_id} did not settle within {timeout:.0f}s (shopctl order watch {order_id})")


@order_app.command("show")
def order_show(order_id: str, as_json: JsonOption = False) -> None:
    """The order, its saga's steps and its timeline."""
    if as_json:
        emit_json({"order": shop().order(order_id), "saga": shop().saga(order_id)})
        return
    tables = _order_tables(order_id)
    if tables is None:
        raise fail(f"no order {order_id} in stack {shop().stack}")
    for table in tables:
        console.print(table)


@order_app.command("watch")
def order_watch(order_id: str, timeout: Annotated[float, typer.Option(help="Seconds to watch.")] = 300) -> None:
    """Show the order live until its saga ends."""
    if not _watch(order_id, timeout):
        raise fail(f"order {order_id} did not settle within {timeout:.0f}s")


# -- sagas -----------------------------------------------------------------------------------------


def _sagas_table(title: str, rows: list[dict[str, Any]], since: str) -> Table:
    table = Table(title=title)
    for column in ("order", "saga status", since, "for", "failure"):
        table.add_column(column)
    now = datetime.now(UTC)
    for row in rows:
        late = now - datetime.fromisoformat(row["since"])
        table.add_row(
            row["orderId"], row["status"], row["since"], str(late).split(".")[0], row.get("failureReason") or "-"
        )
    return table


@sagas_app.command("stuck")
def sagas_stuck(
    slack: Annotated[int, typer.Option(help="Minutes past the deadline before an open saga counts as stuck.")] = 5,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Sagas still open `slack` minutes past their deadline, stalest first."""
    rows = shop().stuck(timedelta(minutes=slack), limit)
    if as_json:
        emit_json(rows)
        return
    console.print(_sagas_table(f"stuck sagas ({len(rows)}), stalest first", rows, "deadline"))


@sagas_app.command("failed")
def sagas_failed(
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50, as_json: JsonOption = False
) -> None:
    """Sagas whose compensation failed (COMPENSATION_FAILED), longest-failed first."""
    rows = shop().failed(limit)
    if as_json:
        emit_json(rows)
        return
    console.print(_sagas_table(f"failed sagas ({len(rows)})", rows, "failed at"))


@saga_app.command("cancel")
def saga_cancel(
    order_id: str,
    watch: Annotated[bool, typer.Option(help="Watch the compensation live until the saga ends.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to watch.")] = 120,
    note: Annotated[
        str, typer.Option(help="Why: kept on the order with your IAM principal, and logged.")
    ] = "cancelled with shopctl",
) -> None:
    """Cancel an in-flight order on its customer's behalf (SigV4-signed); payment and inventory compensate."""
    answer = shop().api.as_operator().call("POST", f"/operator/orders/{order_id}/cancel", {"note": note})
    if answer.status == 409:
        raise fail(
            f"order {order_id} is already final ({json.dumps(answer.body)}); a saga stuck in its compensation "
            f"needs its consumer's dead letters redriven: shopctl dlq list"
        )
    if answer.status != 202:
        raise fail(f"the cancel was refused: {refusal(answer.status, answer.body)}")
    console.print(f"cancelled order [bold]{order_id}[/bold]; payment and inventory compensate")
    if watch and not _watch(order_id, timeout):
        raise fail(f"order {order_id} did not settle within {timeout:.0f}s (shopctl order watch {order_id})")


# -- dead-letter queues ----------------------------------------------------------------------------


@dlq_app.command("list")
def dlq_list(as_json: JsonOption = False) -> None:
    """Every consumer's dead-letter queue and how many messages wait in it."""
    redrivable = {t.consumer for t in shop().dead_letters}
    rows: list[dict[str, Any]] = [
        {"consumer": owner, "waiting": shop().depth(url), "redrivable": owner in redrivable}
        for owner, url in shop().all_dead_letters().items()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"dead-letter queues of {shop().stack}")
    table.add_column("consumer")
    table.add_column("waiting", justify="right")
    table.add_column("note")
    for row in rows:
        # The relays' queue holds stream batches given up and refused rows: the sweeper republishes the rows.
        note = "" if row["redrivable"] else "not redrivable: see its messages; shopctl outbox republish"
        table.add_row(str(row["consumer"]), str(row["waiting"]), note, style="red" if row["waiting"] else None)
    console.print(table)


@dlq_app.command("show")
def dlq_show(
    consumer: str,
    limit: Annotated[int, typer.Option(help="At most this many messages.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """A consumer's dead-lettered messages with why each failed (they stay in the queue)."""
    try:
        target = shop().dead_letter(consumer)
    except LookupError as exc:
        raise fail(str(exc)) from exc
    messages = shop().peek(target.dead_letter_queue_url, limit)
    if as_json:
        emit_json([m.__dict__ for m in messages])
        return
    table = Table(title=f"{consumer}: {len(messages)} dead-lettered message(s)")
    for column in ("sent", "event", "order", "reason", "message id"):
        table.add_column(column, overflow="fold")
    for m in messages:
        table.add_row(m.sent_at.isoformat(timespec="seconds"), m.detail_type, m.order_id, m.reason, m.message_id)
    console.print(table)
    # Each failure was logged by the consumer with the message id: its logs say why.
    console.print(f"its logs (each failure with its message id): shopctl logs {consumer}Function --since 1d")


LOG_KEYS_SHOWN_APART = {"level", "message", "timestamp", "location", "service", "cold_start", "function_name",
                        "function_memory_size", "function_arn", "function_request_id", "xray_trace_id"}  # fmt: skip


@app.command("logs")
def logs(
    function: Annotated[str, typer.Argument(help="The function's logical id, e.g. PaymentOnOrderCreatedFunction.")],
    since: Annotated[str, typer.Option(help="How far back: 30m, 2h, 1d.")] = "1h",
    contains: Annotated[str | None, typer.Option(help="Only lines with this text (an order or message id).")] = None,
    as_json: JsonOption = False,
) -> None:
    """A function's log lines, oldest first: the local cloud's or AWS's (CloudWatch Logs)."""
    unit = {"m": 60, "h": 3600, "d": 86400}.get(since[-1:], 0)
    if not unit or not since[:-1].isdigit():
        raise fail(f"--since {since!r} is not a number of m, h or d (e.g. 30m)")
    try:
        group, lines = shop().logs(function, timedelta(seconds=int(since[:-1]) * unit), contains)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            raise fail(
                f"no function {function} in stack {shop().stack} (a logical id, e.g. PaymentOnOrderCreatedFunction)"
            ) from error
        raise
    if as_json:
        emit_json(lines)
        return
    console.print(f"{len(lines)} line(s) of {function} in the last {since}, from {group}")
    for line in lines:
        extra = {k: v for k, v in line.items() if k not in LOG_KEYS_SHOWN_APART}
        console.print(
            f"{line.get('timestamp', '')} {line.get('level', ''):7} {line.get('message', '')}"
            + (f"  {json.dumps(extra, default=str)}" if extra else ""),
            markup=False,
            highlight=False,
        )


def _moment(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"{flag} {value!r} is not an ISO 8601 time (e.g. 2026-12-04T08:00:00Z)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dlq_app.command("redrive")
def dlq_redrive(
    consumer: Annotated[str | None, typer.Argument(help="One consumer (default: all).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only messages first sent at or after this time (SentTimestamp, see below).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only messages first sent before this time.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Count, move nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Move dead-lettered messages back to their consumer's queue, after a fix.

    Each dead-letter queue is scanned whole, once. The window is each message's SentTimestamp: when the event
    was first sent to the consumer's queue (SQS keeps that time when it dead-letters it), or when the consumer
    parked a malformed event in its dead-letter queue. Messages parked again while the scan runs are left for
    the next redrive."""
    start, end = _moment(since, "--since"), _moment(until, "--until")
    try:
        targets = [shop().dead_letter(consumer)] if consumer else shop().dead_letters
    except LookupError as exc:
        raise fail(str(exc)) from exc
    reports = {t.consumer: shop().redrive(t, since=start, until=end, dry_run=dry_run) for t in targets}
    if as_json:
        emit_json(
            {
                "dryRun": dry_run,
                "window": {"field": "SentTimestamp", "since": since, "until": until},
                "moved": {name: report.moved for name, report in reports.items()},
                "consumers": {
                    name: {
                        "examined": report.examined,
                        "moved": report.moved,
                        "outsideWindow": report.outside_window,
                        "arrivedDuringScan": report.arrived_during_scan,
                        "heldElsewhere": report.held_elsewhere,
                    }
                    for name, report in reports.items()
                },
            }
        )
        return
    verb = "would move" if dry_run else "moved"
    for name, report in reports.items():
        if report.examined or report.arrived_during_scan or report.held_elsewhere:
            console.print(
                f"{name}: examined {report.examined}, {verb} {report.moved}, {report.outside_window} outside the "
                f"window, {report.arrived_during_scan} parked during the scan (left for the next redrive)"
                + (
                    f", {report.held_elsewhere} held by another reader throughout: run it again"
                    if report.held_elsewhere
                    else ""
                )
            )
    examined, moved = sum(r.examined for r in reports.values()), sum(r.moved for r in reports.values())
    console.print(f"{verb} {moved} of {examined} message(s) examined (window on SentTimestamp)")


# -- outbox ----------------------------------------------------------------------------------------


@outbox_app.command("republish")
def outbox_republish(
    older_than: Annotated[int, typer.Option(help="Only rows older than this many seconds.", min=0)] = 60,
    as_json: JsonOption = False,
) -> None:
    """Run every relay's sweeper now: publish outbox rows older than --older-than (same event ids)."""
    published = shop().republish(older_than)
    if as_json:
        emit_json(published)
        return
    for service, count in published.items():
        console.print(f"{service}: published {count}")


# -- bus -------------------------------------------------------------------------------------------


@bus_app.command("tail")
def bus_tail(
    detail_types: Annotated[
        list[str] | None, typer.Option("--type", help="Only this detail-type (repeatable).")
    ] = None,
    count: Annotated[int, typer.Option(help="Stop after this many events (0: until Ctrl-C).")] = 0,
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: until Ctrl-C).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Print the bus's events live through a temporary subscription, removed on exit."""
    tail = BusTail(shop().outputs["EventBusName"], detail_types or [])
    errors.print(f"tailing {shop().outputs['EventBusName']} on {STATE['where']} (Ctrl-C to stop)")
    seen, started = 0, time.monotonic()
    try:
        while not (count and seen >= count) and not (seconds and time.monotonic() - started > seconds):
            for event in tail.events():
                seen += 1
                if as_json:
                    sys.stdout.write(json.dumps(event) + "\n")
                    sys.stdout.flush()
                else:
                    metadata = (event.get("detail") or {}).get("metadata") or {}
                    console.print(
                        f"{event.get('time')}  [bold]{event.get('detail-type')}[/bold]  {event.get('source')}  "
                        f"saga {metadata.get('correlationId', '?')}  event {metadata.get('eventId', '?')}"
                    )
    except KeyboardInterrupt:
        pass
    finally:
        tail.close()
        errors.print(f"{seen} event(s); the temporary subscription is removed")


# -- products --------------------------------------------------------------------------------------


def refusal(status: int, body: Any) -> str:
    """An API's refusal (RFC 7807 problem+json) as lines an operator reads: what, then each field and why."""
    if not isinstance(body, dict):
        return f"{status}: {body}"
    head = " ".join(str(part) for part in (status, body.get("title")) if part)
    detail = body.get("detail") or body.get("message")
    lines = [f"{head}: {detail}" if detail else head]
    lines += [f"  {error.get('field')}: {error.get('message')}" for error in body.get("errors") or []]
    return "\n".join(lines)


def _product_answer(answer: Any, as_json: bool) -> None:
    if answer.status >= 400:
        raise fail(refusal(answer.status, answer.body))
    if as_json:
        emit_json(answer.body)
        return
    table = Table(show_header=False, title=f"product {answer.body.get('productId')}")
    for key in ("name", "price", "available"):
        table.add_row(key, str(answer.body.get(key)))
    console.print(table)


@products_app.command("show")
def products_show(product_id: str, as_json: JsonOption = False) -> None:
    """A product of the catalogue."""
    _product_answer(shop().api.call("GET", f"/products/{product_id}"), as_json)


@products_app.command("set")
def products_set(
    product_id: str,
    name: Annotated[str, typer.Option(help="Its name.")],
    price: Annotated[str, typer.Option(help="Its price, two decimals (e.g. 12.50).")],
    available: Annotated[int, typer.Option(help="Units free to sell.")],
    as_json: JsonOption = False,
) -> None:
    """Create a product or set its name, price and free stock, only if nobody changed it since it was read
    (If-Match: units reserved meanwhile are never overwritten; run it again to set it over them)."""
    api = shop().api.as_operator()
    read = api.call("GET", f"/products/{product_id}")
    if read.status not in (200, 404):
        _product_answer(read, as_json)
    headers = {"If-Match": read.headers["ETag"]} if read.status == 200 else {}
    body = {"name": name, "price": price, "available": available}
    _product_answer(api.call("PUT", f"/products/{product_id}", body, headers=headers), as_json)


@products_app.command("announce")
def products_announce(product_id: str, as_json: JsonOption = False) -> None:
    """Announce a product's price again (ProductPriced), as it is: for a service whose copy lost it."""
    api = shop().api.as_operator()
    read = api.call("GET", f"/products/{product_id}")
    if read.status != 200:
        _product_answer(read, as_json)
    body = {key: read.body[key] for key in ("name", "price", "available")}
    _product_answer(
        api.call("PUT", f"/products/{product_id}", body, headers={"If-Match": read.headers["ETag"]}), as_json
    )


@products_app.command("restock")
def products_restock(
    product_id: str,
    quantity: Annotated[int, typer.Option(help="Units to add.")],
    as_json: JsonOption = False,
) -> None:
    """Add units to a product's free stock."""
    answer = shop().api.as_operator().call("POST", f"/products/{product_id}/restock", {"quantity": quantity})
    _product_answer(answer, as_json)


def unreachable(error: Exception) -> str:
    """One line for a failure to reach the cloud or the stack, saying what to do; "" for any other error."""
    where = STATE.get("where", "the cloud")
    if isinstance(error, EndpointConnectionError):
        return (
            f"cannot reach {where}: is it running? (`make up` starts the local cloud on 4566; another port: "
            "--endpoint http://127.0.0.1:PORT or AWS_ENDPOINT_URL)"
        )
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return f"no AWS credentials for {where}: pass --profile, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        text = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationError" and "does not exist" in text:
            stack = getattr(STATE.get("shop"), "stack", "the stack")
            return f"no stack {stack} on {where}: deploy it (`make up`), or name yours with --stack"
        if code in {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException"}:
            return f"{where} refused the credentials ({code}): refresh them (aws sso login, or --profile)"
    return ""


def main() -> None:
    """The console entry point: a cloud or stack that cannot be reached is one line, not a traceback."""
    try:
        app()
    except (EndpointConnectionError, NoCredentialsError, PartialCredentialsError, ClientError) as error:
        if not (message := unreachable(error)):
            raise
        errors.print(f"[red]error:[/red] {message}")
        sys.exit(2)


if __name__ == "__main__":
    main()

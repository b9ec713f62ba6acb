"""The benchmark's result for people: a chart, the generated section of docs/benchmarks.md, one line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tools.bench.cpu import PROBE_ADDITIONS

# Each handler's module imports in at most this long (median of 3, a fresh interpreter with its layers).
IMPORT_BUDGET_MS = 250
BEGIN = "<!-- bench:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- bench:end -->"


def seconds(value: float | None) -> str:
    """`0.44 s`, or `-` when nothing was measured."""
    return "-" if value is None else f"{value:.2f} s"


def chart(result: dict[str, Any], path: Path) -> Path:
    """Throughput and POST-to-final latency against clients, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = result["levels"]
    clients = [level["clients"] for level in levels]
    seen = "toOutcome" if levels and "toOutcome" in levels[0] else "toFinal"
    label = "POST->outcome seen" if seen == "toOutcome" else "POST->final"
    figure, throughput = plt.subplots(figsize=(8, 4.5), dpi=110)
    throughput.plot(clients, [lv["completedPerMinute"] for lv in levels], "o-", color="tab:blue", label="orders/min")
    throughput.set_xlabel("closed-loop clients")
    throughput.set_ylabel("completed orders per minute", color="tab:blue")
    throughput.set_ylim(bottom=0)
    throughput.set_xticks(clients)
    latency = throughput.twinx()
    for key, style in (("p50", "s--"), ("p95", "^--"), ("p99", "v:")):
        latency.plot(clients, [lv[seen][key] for lv in levels], style, color="tab:red", label=f"{label} {key}")
    if seen == "toFinal":
        latency.plot(clients, [lv["viewLag"]["p95"] for lv in levels], "x-.", color="tab:green", label="view lag p95")
    latency.set_ylabel("seconds", color="tab:red")
    latency.set_ylim(bottom=0)
    handles = throughput.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
    labels = throughput.get_legend_handles_labels()[1] + latency.get_legend_handles_labels()[1]
    throughput.legend(handles, labels, loc="lower left", fontsize=8)
    figure.suptitle(f"make bench, {result['when']} ({result['machine']['cpus']} cores, local cloud)", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def _seen(level: dict[str, Any]) -> dict[str, float | None]:
    """A level's latency: until its client saw the outcome (client's loop) or the table said so (table's)."""
    found: dict[str, float | None] = level.get("toOutcome") or level["toFinal"]
    return found


def summary(result: dict[str, Any]) -> str:
    """The one line a run ends with."""
    parts = [
        f"{lv['clients']} clients {lv['completedPerMinute']:.0f}/min p95 {seconds(_seen(lv)['p95'])}"
        for lv in result["levels"]
    ]
    cold = result.get("cold")
    if cold:
        parts.append(
            f"cold burst of {cold['customers']}: {cold['answeredFirstTry']} answered first try, "
            f"target {'met' if cold['met'] else 'NOT met'}"
        )
    host = result.get("host")
    if host:
        parts.append(f"host loop {_host_span(host)}")
    return (
        f"bench: {'; '.join(parts)}; {result['cost']['microDollarsPerOrder']:.1f} µ$ per order "
        f"({result['perOrder']['invocations']:.1f} invocations, {result['perOrder']['dynamodbWriteUnits']:.1f} WRU); "
        f"{result['orders']} orders in {result['tookSeconds']:.0f}s"
    )


def process_cores(level: dict[str, Any]) -> float:
    """How many cores the local cloud's own process kept busy in a level: its CPU an order times the orders a
    second. One Python process (one GIL) serves every AWS call, delivery and invocation; where this stays level
    whatever the clients, the orders a minute go with the local cloud's CPU an order."""
    return float(level["cpuSecondsPerOrder"]["localCloud"]) * float(level["completedPerMinute"]) / 60


def _host_span(host: dict[str, Any]) -> str:
    """'348 / 512 ms': the host probe's median before and after the levels."""
    return " / ".join(f"{host[when]['medianMs']:.0f}" for when in ("before", "after") if when in host) + " ms"


def _host_line(result: dict[str, Any]) -> list[str]:
    host = result.get("host")
    if not host:
        return []
    baseline = (result.get("baseline") or {}).get("host")
    then = f"; on the A/B's baseline run, just before, {_host_span(baseline)}" if baseline else ""
    return [
        "",
        f"The machine's speed (a fixed loop of {PROBE_ADDITIONS:,} additions in a fresh interpreter, median of 5): "
        f"**{_host_span(host)}** before and after the levels{then}. Read the figures below beside it (how much it "
        "moves on this machine: what is measured, and how, above).",
    ]


def _path_position(hop: str) -> int:
    path = ("OrderCreated", "PaymentProcessed", "InventoryReserved", "OrderConfirmed")
    first = hop.split("->", maxsplit=1)[0]
    return path.index(first) if first in path else len(path)


def _client_rows(result: dict[str, Any]) -> list[str]:
    rows = [
        "As the clients saw it (each a signed-in customer: POST /orders, then GET /orders/{id} until final, "
        f"first after {result['options']['poll']['first']:.1f} s, then 1.5 times longer each time up to "
        f"{result['options']['poll']['most']:.1f} s):",
        "",
        "| clients | completed/min | POST->outcome seen p50 | p95 | p99 | max | POST p50 | GET p50 | GET p95 "
        "| GETs/order | read CPU ms/order | saga (server) p50 | p95 | 5xx | CPU ms/order: local cloud | functions "
        "| local cloud's process, cores | machine busy | workers started |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in result["levels"]:
        outcome, saga = lv["toOutcome"], lv["sagaServerSide"]
        cpu_ms = {key: value * 1000 for key, value in lv["cpuSecondsPerOrder"].items()}
        cells = [
            str(lv["clients"]),
            f"{lv['completedPerMinute']:.0f}",
            *(seconds(outcome[key]) for key in ("p50", "p95", "p99")),
            seconds(lv["toOutcomeMax"]),
            seconds(lv["postP50"]),
            seconds(lv["getP50"]),
            seconds(lv["getP95"]),
            f"{lv['pollsPerOrder']:.1f}",
            f"{lv.get('readCpuMsPerOrder', 0):.0f}",
            seconds(saga["p50"]),
            seconds(saga["p95"]),
            str(lv["serverErrors"]),
            f"{cpu_ms['localCloud']:.0f}",
            f"{cpu_ms['functions']:.0f}",
            f"{process_cores(lv):.2f}",
            f"{lv.get('machineBusy', 0):.0%}",
            str(lv.get("workersStarted", "-")),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    if any(lv["sagaServerSide"]["p50"] is None for lv in result["levels"]):
        rows += [
            "",
            "A saga time of `-`: the saga view had not yet recorded the order's end when its client saw it (the "
            "client reads the order's status from the order's own record, the timeline from the projector's "
            "view, which lags behind at that level).",
        ]
    read = result.get("readPath")
    if read:
        rows += [
            "",
            f"The read path alone: {read['readers']} customers asking for their own orders back to back for "
            f"{read['seconds']:.0f} s made {read['gets']} GETs; one GET costs "
            f"{read['cpuMsPerGet']['localCloud']:.1f} ms of the local cloud's CPU (API Gateway, the Cognito "
            "authorizer, DynamoDB) and "
            f"{read['cpuMsPerGet']['orderApi']:.1f} ms of the order API's.",
        ]
    return rows


def _table_rows(result: dict[str, Any]) -> list[str]:
    rows = [
        "| clients | completed/min | POST->final p50 | p95 | p99 | max | saga (server) p50 | p95 | view lag p50 | p95 "
        "| views stale at final | CPU ms/order: local cloud | functions | machine busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in result["levels"]:
        final, saga, lag = lv["toFinal"], lv["sagaServerSide"], lv["viewLag"]
        stale = f"{lv['viewsStaleAtFinal']} of {lv['confirmed'] + lv['cancelled']}"
        cpu_ms = {key: value * 1000 for key, value in lv["cpuSecondsPerOrder"].items()}
        cells = [
            str(lv["clients"]),
            f"{lv['completedPerMinute']:.0f}",
            *(seconds(final[key]) for key in ("p50", "p95", "p99")),
            seconds(lv["toFinalMax"]),
            seconds(saga["p50"]),
            seconds(saga["p95"]),
            seconds(lag["p50"]),
            seconds(lag["p95"]),
            stale,
            f"{cpu_ms['localCloud']:.0f}",
            f"{cpu_ms['functions']:.0f}",
            f"{lv.get('machineBusy', 0):.0%}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _cold_rows(cold: dict[str, Any] | None) -> list[str]:
    if not cold:
        return []
    answer = cold["answerSeconds"]
    return [
        "",
        f"**Cold level** (on the stack as deployed, the order API never run): {cold['customers']} customers order "
        f"one unit each of a product with {cold['stock']} at the same moment. Target: every request answered on "
        "its first try, no 5xx, and every saga ending by its real outcome (confirmed or out of stock), none by "
        f"its deadline: **{'met' if cold['met'] else 'not met'}**.",
        "",
        "| answers | answered 201 | 5xx or none | answer p50 | p95 | max | outcomes | last outcome after "
        "| peak workers | peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {', '.join(f'{status}: {count}' for status, count in cold['answers'].items())} "
        f"| {cold['answeredFirstTry']} | {cold['serverErrors']} | {seconds(answer['p50'])} | {seconds(answer['p95'])} "
        f"| {seconds(answer['max'])} | {', '.join(f'{key} {count}' for key, count in cold['outcomes'].items())} "
        f"| {cold['lastOutcomeSeconds']:.1f} s | {cold['peakWorkers']} | {cold['peakMemoryMb']} MB |",
    ]


def _baseline_rows(result: dict[str, Any]) -> list[str]:
    baseline = result.get("baseline")
    if not baseline or not result["levels"] or "toOutcome" not in result["levels"][0]:
        return []
    rows = [
        "",
        f"**A/B against {baseline['commit']}** (the same client's loop, the same run and machine, its stack on a "
        "local cloud of its own just before this one's; a stack from before sign-in is called without a token):",
        "",
        "| clients | completed/min: baseline | this commit | POST->outcome p95: baseline | this commit "
        "| CPU ms/order: baseline | this commit | local cloud's process, cores: baseline | this commit "
        "| workers started: baseline | this commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    before = {level["clients"]: level for level in baseline["levels"]}
    for now in result["levels"]:
        then = before.get(now["clients"])
        if then is None:
            continue

        def cpu(level: dict[str, Any]) -> str:
            return f"{sum(level['cpuSecondsPerOrder'].values()) * 1000:.0f}"

        rows.append(
            f"| {now['clients']} | {then['completedPerMinute']:.0f} | {now['completedPerMinute']:.0f} "
            f"| {seconds(then['toOutcome']['p95'])} | {seconds(now['toOutcome']['p95'])} | {cpu(then)} | {cpu(now)} "
            f"| {process_cores(then):.2f} | {process_cores(now):.2f} "
            f"| {then.get('workersStarted', '-')} | {now.get('workersStarted', '-')} |"
        )
    return rows


def markdown(result: dict[str, Any], chart_path: Path, docs_dir: Path) -> str:
    """The generated section: levels, the cold level, per-order counts, cost lines, functions."""
    client_mode = bool(result["levels"]) and "toOutcome" in result["levels"][0]
    out = [
        f"Run of {result['when']} on {result['machine']['cpus']} cores ({result['machine']['system']}), "
        f"Python {result['machine']['python']}: {result['orders']} orders, {result['tookSeconds']:.0f} s in all.",
        *_host_line(result),
        "",
        f"![throughput and latency against clients]({Path(os.path.relpath(chart_path, docs_dir)).as_posix()})",
        "",
        *(_client_rows(result) if client_mode else _table_rows(result)),
        *_baseline_rows(result),
        *_cold_rows(result.get("cold")),
    ]
    hops = sorted({hop for lv in result["levels"] for hop in lv.get("hopP50", {})}, key=_path_position)
    if hops:
        out += [
            "",
            "Each hop of the happy path, p50 (server side, from the saga view's timeline: one service's reaction,"
            " from the event it reacted to until the event it emitted, both as committed):",
            "",
            "| clients | " + " | ".join(hops) + " |",
            "|---|" + "---|" * len(hops),
        ]
        for lv in result["levels"]:
            out.append(
                f"| {lv['clients']} | " + " | ".join(seconds(lv.get("hopP50", {}).get(hop)) for hop in hops) + " |"
            )
    per = result["perOrder"]
    out += [
        "",
        f"Per order (all {result['orders']} orders of the run, warm-up included, with what their deadline "
        "schedules caused): "
        f"{per['invocations']:.2f} Lambda invocations, {per['dynamodbWriteUnits']:.2f} DynamoDB write units and "
        f"{per['dynamodbReadUnits']:.2f} read units ("
        + ", ".join(f"{table} {units:.1f}" for table, units in per.get("dynamodbWriteUnitsByTable", {}).items())
        + f" write units), {per['putEventsEntries']:.2f} PutEvents entries, "
        f"{per['schedulerCalls']:.2f} Scheduler calls.",
        "",
        f"Cost per order at AWS list prices (region {result['cost']['region']}; {result['cost']['pricesAsOf']}): "
        f"**{result['cost']['microDollarsPerOrder']:.2f} µ$**",
        "",
        "| item | per order | unit price (USD) | µ$ | what was counted |",
        "|---|---|---|---|---|",
    ]
    for line in result["cost"]["lines"]:
        out.append(
            f"| {line['item']} | {line['perOrder']:.4g} | {line['unitPriceUsd']:.4g} | {line['microDollars']:.2f} "
            f"| {line['note']} |"
        )
    out += [
        "",
        "| function | invocations/order | records/invocation | handler ms (mean) | package MB | handler import ms "
        f"(budget {IMPORT_BUDGET_MS}) | of it, libraries ms | own ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    packages = result["functions"]["functions"]
    for name in sorted(set(per["invocationsByFunction"]) | set(packages)):
        use = per["invocationsByFunction"].get(name, {})
        package = packages.get(name, {})
        size = package.get("packageBytes")
        imported = package.get("importSeconds")
        budget = "" if imported is None else (" ok" if imported * 1000 <= IMPORT_BUDGET_MS else " **over**")
        out.append(
            f"| {name} | {use.get('perOrder', 0):.3f} | {use.get('recordsPerInvocation', 0):.2f} "
            f"| {use.get('handlerMsMean', 0):.1f} | {'-' if size is None else f'{size / 1e6:.1f}'} "
            f"| {_milliseconds(imported)}{budget} "
            f"| {_milliseconds(package.get('librariesImportSeconds'))} "
            f"| {_milliseconds(package.get('ownImportSeconds'))} |"
        )
    layers = ", ".join(f"{name} {size / 1e3:.0f} kB" for name, size in result["functions"]["layers"].items())
    out += ["", *_import_split_note(packages), *_cpu_rows(result)]
    out += [
        f"Layers: {layers}. AWS calls per order: "
        + ", ".join(f"{call} {count:.2f}" for call, count in per["awsCalls"].items())
        + ".",
    ]
    return "\n".join(out)


_SPLIT_KEYS = ("cpuMsPerOrder", "handlerCpuMsPerOrder", "sdkCpuMsPerOrder", "awsCallsPerOrder")


def _cpu_rows(result: dict[str, Any]) -> list[str]:
    """Where the functions' CPU went: per function at one level (16 clients, else the first), and the shares
    at every level of this commit and of the baseline. Nothing when the run did not measure it."""
    levels = [level for level in result["levels"] if level.get("cpuSplit")]
    if not levels:
        return []
    shown = next((level for level in levels if level["clients"] == 16), levels[0])
    out = [
        f"Where the functions' CPU goes at {shown['clients']} clients (per order completed in the level; each "
        "function's workers' CPU from /proc; the handler's thread timed around each invocation and each AWS call, "
        "so the waits for the local cloud's answers are not in it):",
        "",
        "| function | CPU ms/order, its workers | in the handler | of it, AWS calls | AWS calls/order "
        "| CPU ms a call | around the handler |",
        "|---|---|---|---|---|---|---|",
    ]
    split = shown["cpuSplit"]
    idle = sorted(name for name, use in split.items() if max(use["cpuMsPerOrder"], use["handlerCpuMsPerOrder"]) < 0.05)
    for name, use in sorted(split.items(), key=lambda item: -float(item[1]["cpuMsPerOrder"])):
        if name not in idle:
            out.append(_cpu_row(name, use))
    out.append(_cpu_row("**all**", _total(split)))
    if idle:
        out += ["", f"Under 0.05 ms an order in the level: {', '.join(idle)}."]
    out += [
        "",
        "At each level, the functions' CPU an order in three parts: the AWS SDK's (botocore building, signing and "
        "sending each call and parsing its answer), the handlers' own (the project's code, pydantic, Powertools), "
        "and around the handlers (the local cloud's worker reading each event and writing its answer and log, and "
        "the start of any worker started in the level):",
        "",
        "| stack | clients | CPU ms/order | AWS SDK | AWS calls/order | CPU ms a call | handlers' own | around |",
        "|---|---|---|---|---|---|---|---|",
    ]
    baseline = result.get("baseline") or {}
    for who, each in (("this commit", levels), (baseline.get("commit"), baseline.get("levels") or [])):
        out += [
            _shares(str(who), level["clients"], _total(level["cpuSplit"])) for level in each if level.get("cpuSplit")
        ]
    return [*out, ""]


def _total(split: dict[str, dict[str, float]]) -> dict[str, float]:
    return {key: sum(float(use.get(key, 0.0)) for use in split.values()) for key in _SPLIT_KEYS}


def _shares(who: str, clients: int, total: dict[str, float]) -> str:
    workers, handlers, sdk = total["cpuMsPerOrder"], total["handlerCpuMsPerOrder"], total["sdkCpuMsPerOrder"]
    calls = total["awsCallsPerOrder"]
    if workers <= 0:
        return f"| {who} | {clients} | - | - | - | - | - | - |"
    per_call = f"{sdk / calls:.2f}" if calls else "-"

    def part(ms: float) -> str:
        return f"{ms:.0f} ({ms / workers:.0%})"

    return (
        f"| {who} | {clients} | {workers:.0f} | {part(sdk)} | {calls:.1f} | {per_call} | {part(handlers - sdk)} "
        f"| {part(workers - handlers)} |"
    )


def _cpu_row(name: str, use: dict[str, Any]) -> str:
    workers, handler = float(use["cpuMsPerOrder"]), float(use.get("handlerCpuMsPerOrder", 0.0))
    sdk, calls = float(use.get("sdkCpuMsPerOrder", 0.0)), float(use.get("awsCallsPerOrder", 0.0))
    per_call = f"{sdk / calls:.2f}" if calls >= 0.01 else "-"
    # `+ 0.0` writes a rounded -0.0 (a handler's CPU a hair over its workers') as 0.0.
    around = round(workers - handler, 1) + 0.0
    return f"| {name} | {workers:.1f} | {handler:.1f} | {sdk:.1f} | {calls:.2f} | {per_call} | {around:.1f} |"


def _milliseconds(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _import_split_note(packages: dict[str, Any]) -> list[str]:
    """One paragraph: the spread of the libraries' part and of the project's own, when they were measured."""
    libraries = [p["librariesImportSeconds"] for p in packages.values() if p.get("librariesImportSeconds") is not None]
    own = [p["ownImportSeconds"] for p in packages.values() if p.get("ownImportSeconds") is not None]
    if not libraries or not own:
        return []
    return [
        f"How each import divides (another fresh interpreter: first the libraries the handler imports, in its order; "
        f"then the handler, left with the project's own modules and models): the libraries {min(libraries) * 1000:.0f} "
        f"to {max(libraries) * 1000:.0f} ms, the project's own code {min(own) * 1000:.0f} to {max(own) * 1000:.0f} ms.",
        "",
    ]


def write_docs(result: dict[str, Any], path: Path, chart_path: Path) -> None:
    """Rewrite the generated section of `path` (between the markers), keeping everything around it."""
    generated = f"{BEGIN}\n{markdown(result, chart_path, path.parent)}\n{END}"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + generated + tail)

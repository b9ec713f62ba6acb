"""Where the CPU goes: the local cloud's own process against its Lambda workers, per function (Linux /proc).

Every process of the local cloud is in the session its start made (tools/dev/localcloud.py starts it with
a session of its own); a Lambda worker runs a script in a folder named after its function
(`ministack-lambda-<function>-.../_worker.py`), which is how its CPU is told apart. Its command line, not
its working directory: that is its package's folder, which the launcher links to one unpacked copy shared
by every worker of the function (tools/dev/localcloud_server.py), so it no longer names the worker.
And how fast the machine is at a given moment (`host_speed`), which a run's figures are read beside.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
# A fixed piece of pure-Python work, timed in a fresh interpreter: how fast this machine is at the moment.
PROBE_ADDITIONS = 3_000_000
_PROBE = (
    "import time\nt = time.perf_counter()\ns = 0\n"
    f"for i in range({PROBE_ADDITIONS}):\n    s += i\n"
    "print(time.perf_counter() - t)"
)
_WORKER = re.compile(r"ministack-lambda-(?P<function>.+)-[a-z0-9_]{8}(/|$)")


def _stat(pid: str) -> tuple[int, float] | None:
    """(session id, CPU seconds used) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (2nd field) may hold spaces; the rest follow its closing parenthesis.
    fields = raw[raw.rindex(")") + 2 :].split()
    session = int(fields[3])
    return session, (int(fields[11]) + int(fields[12])) / _TICKS


def owner_of(command_line: str) -> str:
    """The function a worker's command line runs for; "local cloud" for any other process."""
    found = _WORKER.search(command_line)
    return found.group("function") if found else "local cloud"


def _owner(pid: str) -> str:
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "local cloud"
    return owner_of(command_line)


def snapshot(session: int) -> dict[int, tuple[str, float]]:
    """Each process of `session` now: (who it works for, CPU seconds so far)."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        if stat is None or stat[0] != session:
            continue
        found[int(entry.name)] = (_owner(entry.name), stat[1])
    return found


def used_between(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds by owner between two snapshots (a process born in between counts whole; one that
    ended in between is lost, which the benchmark keeps rare by running its levels back to back)."""
    used: dict[str, float] = {}
    for pid, (owner, seconds) in after.items():
        used[owner] = used.get(owner, 0.0) + seconds - before.get(pid, (owner, 0.0))[1]
    return used


def workers_started(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> int:
    """Lambda workers alive at `after` that were not at `before`: the cold starts in between."""
    return sum(1 for pid, (owner, _) in after.items() if pid not in before and owner != "local cloud")


def session_of(pid: int) -> int:
    """The session of a process (the local cloud's, from its PID file)."""
    stat = _stat(str(pid))
    if stat is None:
        raise ProcessLookupError(f"process {pid} is not running")
    return stat[0]


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user time
    return total - idle, total


def machine_busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy the machine's cores were between two readings (1.0: every core, all the time)."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else 0.0


def workers_and_memory(session: int) -> tuple[int, int]:
    """(Lambda workers alive, resident bytes of every process of the local cloud) now."""
    workers, resident = 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        if stat is None or stat[0] != session:
            continue
        try:
            resident += int(Path(f"/proc/{entry.name}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        workers += _owner(entry.name) != "local cloud"
    return workers, resident


def host_speed(repeats: int = 5, python: str = sys.executable) -> dict[str, float]:
    """Milliseconds a fresh interpreter takes for PROBE_ADDITIONS additions, `repeats` times (median, least,
    most). The machine's speed moves by a factor of two within hours (other tenants of its host), so a run's
    figures are read beside it; taken with the local clouds idle or stopped, it measures the host, not the
    benchmark."""
    times = []
    for _ in range(repeats):
        done = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
        times.append(float(done.stdout.strip()) * 1000)
    return {
        "medianMs": round(statistics.median(times), 1),
        "minMs": round(min(times), 1),
        "maxMs": round(max(times), 1),
    }

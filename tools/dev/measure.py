"""Run a command and report its wall time and the local cloud's peak memory while it ran.

    python -m tools.dev.measure -- make demo

The local cloud is every process running from .venvs/ministack: ministack itself and the Lambda
workers it spawns. Memory is the sum of their resident set sizes, sampled every 0.2 s (Linux /proc).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

MARKER = ".venvs/ministack/"


def local_cloud_rss() -> tuple[int, int]:
    """(bytes resident, process count) of every local cloud process now."""
    total = count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if MARKER not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    count += 1
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total, count


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    peak = {"bytes": 0, "processes": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, processes = local_cloud_rss()
            if rss > peak["bytes"]:
                peak.update(bytes=rss, processes=processes)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    status = subprocess.call(command)
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    print(
        f"measure: `{' '.join(command)}` exited {status} after {elapsed:.1f}s; local cloud peak "
        f"{peak['bytes'] / 2**20:.0f} MiB across {peak['processes']} processes"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())

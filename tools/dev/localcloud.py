"""Start, stop, check and reset the local cloud (ministack) that this project runs on.

    python -m tools.dev.localcloud start  [--port 4566] [--auth]   # reuses a healthy instance on that port
    python -m tools.dev.localcloud stop   [--port 4566]   # stops only an instance this project started
    python -m tools.dev.localcloud health [--port 4566]
    python -m tools.dev.localcloud reset  [--port 4566]   # wipes every resource in it

`--auth` starts it as AWS behaves: IAM enforced (ministack's AUTH=true: every Lambda calls as its own
execution role, signatures are verified, deploy capabilities are checked), and
tools/dev/localcloud_server.py (which runs ministack every time) fills in the condition keys AWS evaluates and
ministack does not, and records every decision in .localcloud/<port>/iam-decisions.jsonl
(tools.dev.iam_report reads it).

State (PID file, log, decisions) lives in .localcloud/<port>/. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MINISTACK_PYTHON = ROOT / ".venvs" / "ministack" / "bin" / "python"
SERVER = ROOT / "tools" / "dev" / "localcloud_server.py"
DEFAULT_PORT = 4566
START_TIMEOUT_SECONDS = 60


class LocalCloudError(Exception):
    """The local cloud could not be started, stopped or reached; the message says what to do."""


def state_dir(port: int) -> Path:
    """Where the PID file and the log of the instance on `port` live."""
    return ROOT / ".localcloud" / str(port)


def endpoint(port: int) -> str:
    """The loopback URL of the instance on `port`."""
    return f"http://127.0.0.1:{port}"


def healthy(port: int) -> bool:
    """True when a ministack answers its health check on `port`."""
    try:
        with urllib.request.urlopen(f"{endpoint(port)}/_ministack/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def _pid(port: int) -> int | None:
    pid_file = state_dir(port) / "ministack.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def decisions_file(port: int) -> Path:
    """Where an instance started with `auth` records its IAM decisions, one JSON line each."""
    return state_dir(port) / "iam-decisions.jsonl"


def auth_enabled(port: int) -> bool:
    """True when the instance on `port` enforces IAM (its health says "auth": "enabled")."""
    with urllib.request.urlopen(f"{endpoint(port)}/_ministack/health", timeout=2) as response:
        return bool(json.loads(response.read() or b"{}").get("auth") == "enabled")


def _temporary_dir(port: int) -> Path:
    return state_dir(port) / "tmp"


def _clean_environment(port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    # Every Lambda inherits ministack's environment: never pass on an endpoint or credentials that
    # point elsewhere, and give them the fake credentials and region the local cloud expects.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SAM_", "VIRTUAL_ENV"))}
    env.update(
        GATEWAY_PORT=str(port),
        # It accepts any key pair (and, without AUTH, any call): reachable from this machine only.
        BIND_HOST="127.0.0.1",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONDONTWRITEBYTECODE="1",
        # A burst leaves surplus Lambda workers (about 65 MB each) behind; reap them after a minute idle.
        LAMBDA_WARM_TTL_SECONDS="60",
        # At most this many workers of one function at once; a further invocation waits for one
        # (tools/dev/localcloud_server.py: on two cores, 60 cold workers at once answered nothing in a minute).
        LOCAL_WORKERS_PER_FUNCTION="4",
        # Each worker unpacks its function into a temporary folder that ministack removes only when it
        # reaps the worker: the folders of workers alive at a stop stayed in /tmp for good (36 GB of them
        # on one machine). Here they live under the state folder, and stop removes them.
        TMPDIR=str(_temporary_dir(port)),
    )
    env.update(extra or {})
    return env


def start(port: int, extra_env: dict[str, str] | None = None, *, auth: bool = False) -> str:
    """Start ministack on `port` unless one is healthy there already; returns what happened.

    `extra_env` goes to ministack and so to every Lambda worker it spawns (the benchmark's accounting).
    `auth` enforces IAM as AWS does (module docstring); an instance already running must agree.
    """
    if healthy(port):
        if auth and not auth_enabled(port):
            raise LocalCloudError(
                f"the local cloud on {endpoint(port)} does not enforce IAM; stop it (`make down PORT={port}`) "
                "so that it can be started with IAM enforced"
            )
        return f"local cloud already running on {endpoint(port)} (reused)"
    if not MINISTACK_PYTHON.exists():
        raise LocalCloudError(f"{MINISTACK_PYTHON} is missing: run `make setup` first")
    directory = state_dir(port)
    directory.mkdir(parents=True, exist_ok=True)
    if (pid := _pid(port)) is not None:
        raise LocalCloudError(
            f"process {pid} from an earlier start is alive but {endpoint(port)} is not healthy; "
            f"see {directory / 'ministack.log'} and run `make down PORT={port}`"
        )
    shutil.rmtree(_temporary_dir(port), ignore_errors=True)  # what a crashed earlier run left
    _temporary_dir(port).mkdir()
    log = (directory / "ministack.log").open("ab")
    environment = _clean_environment(port, extra_env)
    if auth:
        decisions_file(port).unlink(missing_ok=True)
        environment.update(AUTH="true", MINISTACK_IAM_LOG=str(decisions_file(port)))
    command = [str(MINISTACK_PYTHON), str(SERVER)]
    process = subprocess.Popen(
        command,
        cwd=directory,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so stop can end it with its Lambda workers
    )
    (directory / "ministack.pid").write_text(str(process.pid))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if healthy(port):
            enforced = ", IAM enforced" if auth else ""
            return f"local cloud started on {endpoint(port)} (pid {process.pid}{enforced})"
        if process.poll() is not None:
            break
        time.sleep(0.3)
    tail = (directory / "ministack.log").read_text(errors="replace")[-2000:]
    stop(port)
    raise LocalCloudError(
        f"ministack did not become healthy on {endpoint(port)} within {START_TIMEOUT_SECONDS}s "
        f"(is the port taken?). Last log lines:\n{tail}"
    )


def stop(port: int) -> str:
    """Stop the instance this project started on `port`, with its Lambda workers; returns what happened."""
    pid = _pid(port)
    if pid is None:
        note = " (something else answers there; not ours to stop)" if healthy(port) else ""
        return f"no local cloud started by this project on port {port}{note}"
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if not _alive(pid):
            break
    (state_dir(port) / "ministack.pid").unlink(missing_ok=True)
    shutil.rmtree(_temporary_dir(port), ignore_errors=True)  # the folders of the workers it had
    return f"local cloud on port {port} stopped"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def reset(port: int) -> str:
    """Wipe every resource in the instance on `port`."""
    if not healthy(port):
        raise LocalCloudError(f"no local cloud answers on {endpoint(port)}; start it with `make up`")
    request = urllib.request.Request(f"{endpoint(port)}/_ministack/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30):
        pass
    return f"local cloud on port {port} reset"


def health(port: int) -> str:
    """A one-line health report."""
    if not healthy(port):
        raise LocalCloudError(f"no local cloud answers on {endpoint(port)}")
    with urllib.request.urlopen(f"{endpoint(port)}/_ministack/health", timeout=2) as response:
        body = json.loads(response.read() or b"{}")
    return (
        f"local cloud healthy on {endpoint(port)} (ministack {body.get('version', '?')}, auth {body.get('auth', '?')})"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "health", "reset"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    parser.add_argument("--auth", action="store_true", help="start: enforce IAM as AWS does (AUTH=true)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(start(args.port, auth=args.auth))
        else:
            print({"stop": stop, "health": health, "reset": reset}[args.command](args.port))
    except LocalCloudError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

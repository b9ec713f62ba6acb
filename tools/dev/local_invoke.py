"""`sam local invoke` of every function with its samples in events/, in Docker, against a local stack.

    make up && make local-invoke                              (every sample; make test runs it where Docker can)
    make local-invoke FUNCTION=InventoryApiFunction EVENT=events/api/GetProduct.json     (one)

Triggered by hand or by `make test`; emits nothing of its own (the invoked functions write to the stack as
they do on AWS). What it does, so that the command works on a machine with nothing but Docker's engine:
- Docker: where the engine is installed but stopped, it starts it (`--install-docker`, which `make test`
  passes, also installs it with apt-get when this is a root Debian machine without it).
- The runtime image: AWS's `public.ecr.aws/lambda/python:3.13-x86_64` if it is here or can be pulled; else a
  stand-in built offline and tagged with that name: a Debian root file system (debootstrap, trixie, whose
  Python is 3.13), AWS's Runtime Interface Client (`awslambdaric`) and the boto3 the Lambda runtime provides,
  from requirements/stand-in-runtime.txt. It stands in for AWS's image, it is not it (no extensions API, a
  Debian Python rather than Amazon Linux's); SAM adds its runtime interface emulator and the layers to it.
- The route: the local cloud listens on 127.0.0.1 only (it accepts any key pair), and a container on
  Docker's bridge cannot reach the host's loopback, so for the run a forwarder listens on the bridge's
  gateway address only, and the containers call the stack as http://host.docker.internal:PORT.
- The environment: every function's, read from the deployed stack (tools/dev/env_vars.py), with that endpoint.

Each sample goes to each function the template wires it to (API_RESULTS, OTHER_TARGETS and the subscriptions;
events/README.md shows them); what each returned is printed beside what it documents, and the run fails if one
differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.dev.env_vars import env_vars
from tools.template import subscriptions

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
RUNTIME_IMAGE = "public.ecr.aws/lambda/python:3.13-x86_64"
STAND_IN_LABEL = "org.shop-saga.stand-in"
STAND_IN_REQUIREMENTS = ROOT / "requirements" / "stand-in-runtime.txt"
UNAVAILABLE = 3  # the exit status when Docker cannot run here
DEBIAN_SUITE, DEBIAN_MIRROR = "trixie", "http://deb.debian.org/debian"
CONTAINER_HOST = "host.docker.internal"
PARALLEL = 3  # containers at once, for the samples that may run in any order

# The result each sample documents on a stack just set up by `make up` (the seed's catalogue and sample
# order), in the order they run: what an API answers (its status), or what a batch consumer returns.
NO_FAILURES: dict[str, Any] = {"batchItemFailures": []}
API_RESULTS: list[tuple[str, str, int]] = [
    ("api/PutProduct.json", "InventoryApiFunction", 200),  # the seeded stock again: no If-Match needed
    ("api/GetProduct.json", "InventoryApiFunction", 200),
    ("api/RestockProduct.json", "InventoryApiFunction", 200),
    ("api/PlaceOrder.invalid.json", "OrderApiFunction", 400),
    ("api/PlaceOrder.json", "OrderApiFunction", 201),
    ("api/GetOrder.json", "OrderApiFunction", 200),  # the sample order, its customer's
    ("api/CancelOrder.json", "OrderApiFunction", 409),  # it has already ended (payment_declined)
]
# Samples that are not an event of the bus: the function each goes to, and what it returns.
OTHER_TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "sqs/DeadlineReached.json": ("OrderDeadlineFunction", NO_FAILURES),
    # The relay publishes the row it read (a stream record of a row already gone is published all the same:
    # consumers take each event once).
    "stream/OutboxInsert.json": ("OrderOutboxRelayFunction", {"published": 1, "refused": 0}),
}


@dataclass(frozen=True)
class Invocation:
    """One sample to one function, and what it documents."""

    function: str
    sample: str
    status: int | None = None  # an API's answer; None: a batch, which returns `returns`
    returns: tuple[tuple[str, Any], ...] = tuple(NO_FAILURES.items())

    def expected(self) -> str:
        return f"HTTP {self.status}" if self.status is not None else f"`{json.dumps(dict(self.returns))}`"

    def seen(self, answer: Any) -> str:
        if self.status is not None:
            return f"HTTP {answer.get('statusCode')}" if isinstance(answer, dict) else repr(answer)[:200]
        return json.dumps(answer)[:200]


def sample_invocations() -> list[Invocation]:
    """Every sample a function of the template receives, to each function that receives it."""
    invocations = [Invocation(function, sample, status) for sample, function, status in API_RESULTS]
    for path in sorted((EVENTS / "sqs").glob("*.json")) + sorted((EVENTS / "stream").glob("*.json")):
        sample = str(path.relative_to(EVENTS))
        if sample in OTHER_TARGETS:
            function, returns = OTHER_TARGETS[sample]
            invocations.append(Invocation(function, sample, returns=tuple(returns.items())))
            continue
        detail_type = json.loads(json.loads(path.read_text())["Records"][0]["body"])["detail-type"]
        invocations += [
            Invocation(f"{consumer}Function", sample)
            for consumer, parameters in subscriptions().items()
            if detail_type in parameters["EventPattern"]["detail-type"]
        ]
    return invocations


# ----------------------------------------------------------------------------------------------- Docker
class DockerUnavailable(Exception):
    """Docker's engine cannot run here; the message says why and what to do."""


def _run(*command: str, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def docker_running() -> bool:
    return shutil.which("docker") is not None and _run("docker", "info", timeout=20).returncode == 0


def ensure_docker(*, install: bool, log: Path) -> str:
    """Docker's engine running; returns what was done. Raises DockerUnavailable with the reason."""
    if docker_running():
        return "Docker's engine was running"
    started = time.monotonic()
    done = []
    if shutil.which("dockerd") is None:
        if not (install and os.geteuid() == 0 and shutil.which("apt-get")):
            raise DockerUnavailable(
                "Docker's engine is not installed: install Docker (https://docs.docker.com/engine/install/), "
                "or on a root Debian machine run with --install-docker"
            )
        print("installing Docker's engine and debootstrap (apt-get install docker.io debootstrap) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        installed = _run("apt-get", "install", "-y", "-q", "docker.io", "debootstrap", env=env)
        if installed.returncode != 0:
            raise DockerUnavailable(f"apt-get install docker.io failed:\n{installed.stderr[-2000:]}")
        done.append("installed docker.io")
    if not docker_running():
        if os.geteuid() != 0:
            raise DockerUnavailable("Docker's engine is stopped: start it (sudo systemctl start docker) and retry")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            subprocess.Popen(["dockerd"], stdout=out, stderr=out, start_new_session=True)
        until = time.monotonic() + 60
        while not docker_running():
            if time.monotonic() > until:
                raise DockerUnavailable(f"dockerd did not answer within 60 s (its log: {log})")
            time.sleep(1)
        done.append(f"started dockerd (log: {log})")
    return f"{', '.join(done)} in {time.monotonic() - started:.0f}s"


def ensure_runtime_image(work: Path) -> str:
    """AWS's Lambda image for python3.13 under its name: here, pulled, or a stand-in built offline."""
    inspected = _run("docker", "image", "inspect", RUNTIME_IMAGE, "--format", "{{json .Config.Labels}}")
    if inspected.returncode == 0:
        labels = json.loads(inspected.stdout or "null") or {}
        return "the stand-in runtime image (built earlier)" if STAND_IN_LABEL in labels else "AWS's runtime image"
    if _run("docker", "pull", RUNTIME_IMAGE, timeout=60).returncode == 0:
        return "AWS's runtime image (pulled)"
    started = time.monotonic()
    print(f"{RUNTIME_IMAGE} cannot be pulled here: building a stand-in for it (about a minute) ...", flush=True)
    build_stand_in_image(work)
    return f"a stand-in for AWS's runtime image, built in {time.monotonic() - started:.0f}s"


BOOTSTRAP = """#!/bin/sh
# The stand-in's runtime bootstrap (AWS's image runs its own): AWS's Runtime Interface Client runs the handler
# with the function's code, then its layers, then the runtime's boto3 on the path, in Lambda's order.
export PYTHONPATH="/var/task:/opt/python/lib/python3.13/site-packages:/opt/python:/var/runtime"
exec /usr/bin/python3 -m awslambdaric "${_HANDLER:-$1}"
"""


def build_stand_in_image(work: Path) -> None:
    """A Debian root file system with Python 3.13 and the Runtime Interface Client, imported as the image."""
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable("debootstrap is not installed (apt-get install debootstrap) to build the stand-in")
    rootfs = work / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.mkdir(parents=True)
    built = _run(
        "debootstrap", "--variant=minbase", "--include=python3", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR, timeout=900
    )
    if built.returncode != 0:
        raise DockerUnavailable(f"debootstrap {DEBIAN_SUITE} failed:\n{built.stdout[-1500:]}{built.stderr[-1500:]}")
    runtime = rootfs / "var" / "runtime"
    # Linux x86_64 wheels for the image's Python, whatever this machine runs.
    installed = _run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(runtime),
        "--only-binary", ":all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.13",
        "--implementation", "cp", "--require-hashes", "-r", str(STAND_IN_REQUIREMENTS),
    )  # fmt: skip
    if installed.returncode != 0:
        raise DockerUnavailable(f"installing {STAND_IN_REQUIREMENTS.name} failed:\n{installed.stderr[-2000:]}")
    (runtime / "bootstrap").write_text(BOOTSTRAP)
    (runtime / "bootstrap").chmod(0o755)
    (rootfs / "var" / "task").mkdir(exist_ok=True)
    for cache in (rootfs / "var" / "cache" / "apt" / "archives", rootfs / "var" / "lib" / "apt" / "lists"):
        shutil.rmtree(cache, ignore_errors=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        [
            "docker", "import",
            "--change", f"LABEL {STAND_IN_LABEL}=debian-{DEBIAN_SUITE}-python3.13-awslambdaric",
            "--change", "ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime LANG=C.UTF-8",
            "--change", "WORKDIR /var/task",
            "--change", 'ENTRYPOINT ["/var/runtime/bootstrap"]',
            "-", RUNTIME_IMAGE,
        ],
        stdin=tar.stdout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)
    if imported.returncode != 0:
        raise DockerUnavailable(f"docker import failed: {imported.stderr}")
    # SAM caches the image it derives (runtime interface emulator and layers on top) by the layers alone.
    stale = _run("docker", "images", "-q", "samcli/lambda-python").stdout.split()
    if stale:
        _run("docker", "rmi", "-f", *stale)


def bridge_gateway() -> str:
    """The address of this machine on Docker's default bridge, as its containers see it."""
    answer = _run("docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}")
    for config in json.loads(answer.stdout or "[]") or []:
        if config.get("Gateway"):
            return str(config["Gateway"])
    return "172.17.0.1"  # Docker's default


@contextmanager
def forwarded(address: str, port: int) -> Iterator[None]:
    """Connections to address:port relayed to 127.0.0.1:port while the block runs."""
    listener = socket.create_server((address, port))
    listener.settimeout(0.5)
    stop = threading.Event()

    def pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", port))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(source, sink), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=2)


# ------------------------------------------------------------------------------------------- invoking
def write_env_file(stack: str, port: int, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    found = env_vars(stack, endpoint=f"http://{CONTAINER_HOST}:{port}")
    path.write_text(json.dumps(found, indent=2, sort_keys=True))


def sam_local_invoke(sam: str, invocation: Invocation, env_file: Path, gateway: str) -> tuple[Any, str, float]:
    """What the function returned (parsed, or the raw text), SAM's log, and the seconds it took."""
    started = time.monotonic()
    answer = _run(
        sam, "local", "invoke", invocation.function, "--event", str(EVENTS / invocation.sample),
        "--env-vars", str(env_file), "--skip-pull-image", "--add-host", f"{CONTAINER_HOST}:{gateway}",
        "--template", str(ROOT / ".aws-sam" / "build" / "template.yaml"),
        # SAM CLI looks for samconfig.toml beside the template it is given, so the setting there does not
        # reach it: the template's Fn::ForEach loops need the expansion asked for here.
        "--language-extensions",
        timeout=300, cwd=ROOT,
    )  # fmt: skip
    took = time.monotonic() - started
    lines = [line for line in answer.stdout.strip().splitlines() if line.strip()]
    try:
        return json.loads(lines[-1]), answer.stderr, took
    except (IndexError, json.JSONDecodeError):
        return answer.stdout.strip() or None, answer.stderr, took


def matches(invocation: Invocation, answer: Any) -> bool:
    if invocation.status is not None:
        return isinstance(answer, dict) and answer.get("statusCode") == invocation.status
    return bool(answer == dict(invocation.returns))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    parser.add_argument("--port", type=int, default=4566, help="the local cloud's port")
    parser.add_argument("--sam", default=str(ROOT / ".venvs" / "sam" / "bin" / "sam"))
    parser.add_argument("--function", help="invoke this function only (with --event)")
    parser.add_argument("--event", help="the event file for --function")
    parser.add_argument("--install-docker", action="store_true", help="apt-get install Docker's engine if missing")
    parser.add_argument(
        "--prepare", action="store_true", help=f"only Docker and the image; exit {UNAVAILABLE} if they cannot be"
    )
    args = parser.parse_args(argv)
    work = ROOT / ".localcloud" / "local-invoke"
    try:
        print(f"sam local invoke: Docker: {ensure_docker(install=args.install_docker, log=work / 'dockerd.log')}")
        print(f"sam local invoke: runtime: {ensure_runtime_image(work)}", flush=True)
    except (DockerUnavailable, subprocess.TimeoutExpired) as error:
        print(f"sam local invoke: not run: {error}", file=sys.stderr)
        return UNAVAILABLE
    if args.prepare:
        return 0
    if args.function:
        event = str(Path(args.event).resolve().relative_to(EVENTS)) if args.event else ""
        invocations = [Invocation(args.function, event)]
    else:
        invocations = sample_invocations()
    env_file = ROOT / ".aws-sam" / "env.json"
    write_env_file(args.stack, args.port, env_file)
    gateway = bridge_gateway()
    started = time.monotonic()
    with forwarded(gateway, args.port):
        print(f"sam local invoke: {len(invocations)} invocations, the stack {args.stack} at {gateway}:{args.port}")
        if args.function:
            answer, log, _ = sam_local_invoke(args.sam, invocations[0], env_file, gateway)
            print(log.rstrip())
            print(json.dumps(answer, indent=2) if isinstance(answer, dict) else answer)
            return 0
        # The API samples change the stack in an order (the product, then orders of it); the events after
        # them touch one order each service already decided on, so they run three at a time.
        ordered = [i for i in invocations if i.status is not None]
        unordered = [i for i in invocations if i.status is None]
        results = [sam_local_invoke(args.sam, invocation, env_file, gateway) for invocation in ordered]
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            results += pool.map(lambda i: sam_local_invoke(args.sam, i, env_file, gateway), unordered)
    failures = 0
    for number, (invocation, (answer, log, took)) in enumerate(zip(ordered + unordered, results, strict=True), 1):
        ok = matches(invocation, answer)
        failures += not ok
        print(
            f"  {'ok  ' if ok else 'FAIL'} [{number}/{len(invocations)}] {invocation.function} <- "
            f"events/{invocation.sample}: {invocation.seen(answer)}"
            + ("" if ok else f" (documented: {invocation.expected()})") + f"  {took:.1f}s"
        )  # fmt: skip
        if not ok:
            print("    " + "\n    ".join(log.strip().splitlines()[-15:]))
    print(f"sam local invoke: {len(invocations) - failures} of {len(invocations)} as documented, "
          f"{time.monotonic() - started:.0f}s")  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

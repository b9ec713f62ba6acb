"""What each function carries and what its cold start imports: package size and handler import time.

Reads the `sam build` output (.aws-sam/build/<Function>): the size of each function's package and of the
layers, and the time a fresh interpreter (the local cloud's Python, as its Lambda workers use) takes to
import the handler's module with the package and the layers on its path, as a Lambda cold start does.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from tools.template import resources_of_type, template

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
PYTHON = ROOT / ".venvs" / "ministack" / "bin" / "python"
# Every function's layers, as Lambda puts them on the path (as `sam build` made them: compiled to bytecode).
LAYERS = [BUILD / name / "python" for name in ("DependenciesLayer", "ContractsLayer", "SharedLayer")]
_TIMER = (
    "import importlib, sys, time; t = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print(time.perf_counter() - t)"
)


def size_of(path: Path) -> int:
    """Bytes of every file under `path` (compiled caches left out: Lambda packages have none)."""
    return sum(
        entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and "__pycache__" not in entry.parts
    )


def import_seconds(package: Path, module: str, environment: dict[str, str], repeats: int) -> float | None:
    """Median seconds to import `module` in a fresh interpreter; None when it does not import."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))},
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PYTHONPATH": os.pathsep.join([str(package), *map(str, LAYERS)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }
    times = []
    for _ in range(repeats):
        done = subprocess.run(
            [str(PYTHON), "-c", _TIMER, module], cwd=package, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            return None
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def measure(repeats: int = 3) -> dict[str, Any]:
    """Per function: package bytes and handler import seconds; and the layers' bytes."""
    variables = template()["Globals"]["Function"].get("Environment", {}).get("Variables", {})
    plain = {key: value for key, value in variables.items() if isinstance(value, str)}
    found: dict[str, Any] = {}
    functions = resources_of_type("AWS::Serverless::Function")
    for name, body in sorted(functions.items()):
        package = BUILD / name
        if not package.is_dir():
            # The members of a loop (the outbox relays) share one built package, named after the first.
            package = next(
                (
                    BUILD / other
                    for other, twin in functions.items()
                    if twin["Properties"].get("CodeUri") == body["Properties"].get("CodeUri")
                    and (BUILD / other).is_dir()
                ),
                package,
            )
        if not package.is_dir():
            continue
        handler = str(body["Properties"]["Handler"]).rsplit(".", 1)[0]
        own = {
            key: value
            for key, value in (body["Properties"].get("Environment") or {}).get("Variables", {}).items()
            if isinstance(value, str)
        }
        found[name.removesuffix("Function")] = {
            "packageBytes": size_of(package),
            "handler": handler,
            "importSeconds": import_seconds(package, handler, {**plain, **own}, repeats),
        }
    return {
        "functions": found,
        "layers": {path.parent.name: size_of(path) for path in LAYERS if path.is_dir()},
    }

"""What each function carries and what its cold start imports: package size and handler import time.

Reads the `sam build` output (.aws-sam/build/<Function>): the size of each function's package and of the
layers, and the time a fresh interpreter (the local cloud's Python, as its Lambda workers use) takes to
import the handler's module with the package and the layers on its path, as a Lambda cold start does.

And how that time divides: in another fresh interpreter, the libraries the handler imports (every module
that is not the function's package or the project's own layers: the standard library, botocore,
pydantic, Powertools), in the order the handler imported them, then the handler itself, which then imports
only the project's own modules and builds their models. The libraries' part is what no change to the
project's code can remove; this machine's speed moves it by half within an hour (docs/decisions.md).
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
# The project's own code, as against the libraries it imports: the function's package and these layers.
OWN_LAYERS = ("ContractsLayer", "SharedLayer")
_TIMER = (
    "import importlib, sys, time; t = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print(time.perf_counter() - t)"
)
# Prints, one a line, the modules importing sys.argv[1] added whose file is not under one of sys.argv[2:].
_LIBRARIES = (
    "import importlib, sys; before = set(sys.modules); importlib.import_module(sys.argv[1]); "
    "own = tuple(sys.argv[2:]); "
    "print('\\n'.join(name for name, module in list(sys.modules.items()) if name not in before "
    "and not str(getattr(module, '__file__', None) or '').startswith(own)))"
)
# Imports the modules named on stdin (a failure is skipped: some exist only as another's alias), then
# sys.argv[1]; prints both times.
_SPLIT = (
    "import importlib, sys, time; names = sys.stdin.read().split(); t = time.perf_counter()\n"
    "for name in names:\n"
    "    try:\n"
    "        importlib.import_module(name)\n"
    "    except Exception:\n"
    "        pass\n"
    "middle = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print(middle - t, time.perf_counter() - middle)"
)


def size_of(path: Path) -> int:
    """Bytes of every file under `path` (compiled caches left out: Lambda packages have none)."""
    return sum(
        entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and "__pycache__" not in entry.parts
    )


def _environment(package: Path, layers: list[Path], environment: dict[str, str]) -> dict[str, str]:
    """A cold start's environment: the function's variables, its package and layers on the path."""
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))},
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PYTHONPATH": os.pathsep.join([str(package), *map(str, layers)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }


def _run(python: Path, code: str, *arguments: str, env: dict[str, str], cwd: Path, given: str = "") -> str | None:
    """What `code` printed in a fresh interpreter; None when it failed."""
    done = subprocess.run(
        [str(python), "-c", code, *arguments],
        cwd=cwd,
        env=env,
        input=given,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def import_seconds(
    package: Path,
    module: str,
    environment: dict[str, str],
    repeats: int,
    *,
    layers: list[Path] = LAYERS,
    python: Path = PYTHON,
) -> float | None:
    """Median seconds to import `module` in a fresh interpreter; None when it does not import."""
    env = _environment(package, layers, environment)
    times = []
    for _ in range(repeats):
        printed = _run(python, _TIMER, module, env=env, cwd=package)
        if printed is None:
            return None
        times.append(float(printed.strip().splitlines()[-1]))
    return statistics.median(times)


def import_split(
    package: Path,
    module: str,
    environment: dict[str, str],
    repeats: int,
    *,
    layers: list[Path] = LAYERS,
    own_layers: list[Path] | None = None,
    python: Path = PYTHON,
) -> tuple[float, float] | None:
    """Median seconds of the libraries `module` imports, and of `module` itself once they are loaded.

    Each in a fresh interpreter: the libraries first, by name, in the order `module` imported them; then
    `module`, which is left with the project's own code (its package and `own_layers`). None when it does
    not import.
    """
    env = _environment(package, layers, environment)
    own = [
        package,
        *(own_layers if own_layers is not None else [path for path in layers if path.parent.name in OWN_LAYERS]),
    ]
    listed = _run(python, _LIBRARIES, module, *(f"{path}{os.sep}" for path in own), env=env, cwd=package)
    if listed is None:
        return None
    libraries, rest = [], []
    for _ in range(repeats):
        printed = _run(python, _SPLIT, module, env=env, cwd=package, given=listed)
        if printed is None:
            return None
        first, second = printed.strip().splitlines()[-1].split()
        libraries.append(float(first))
        rest.append(float(second))
    return statistics.median(libraries), statistics.median(rest)


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
        split = import_split(package, handler, {**plain, **own}, repeats)
        found[name.removesuffix("Function")] = {
            "packageBytes": size_of(package),
            "handler": handler,
            "importSeconds": import_seconds(package, handler, {**plain, **own}, repeats),
            "librariesImportSeconds": None if split is None else split[0],
            "ownImportSeconds": None if split is None else split[1],
        }
    return {
        "functions": found,
        "layers": {path.parent.name: size_of(path) for path in LAYERS if path.is_dir()},
    }

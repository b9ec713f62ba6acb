"""Who may import whom: the product (contracts, shared, the services, shopctl) never reaches into the
workshop (tools/, tests/), services never import each other, and nothing imports the benchmark.

Read from the source with `ast`, every import of every module (including those inside functions), so a
late import cannot slip past.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STANDARD = set(sys.stdlib_module_names) | {"__future__"}
THIRD_PARTY_IN_LAMBDA = {"aws_lambda_powertools", "aws_xray_sdk", "boto3", "botocore", "pydantic", "cryptography"}
TYPE_STUBS = {"mypy_boto3_dynamodb", "mypy_boto3_events", "mypy_boto3_kms", "mypy_boto3_sqs"}
SERVICES = ("order", "payment", "inventory", "saga")

# Each room of the product, and the top-level packages it may import besides the standard library.
ROOMS: dict[str, tuple[Path, set[str]]] = {
    "shop_contracts": (ROOT / "contracts/python/shop_contracts", {"shop_contracts", "pydantic"}),
    "shared": (ROOT / "shared/python/shared", {"shared", "shop_contracts"} | THIRD_PARTY_IN_LAMBDA | TYPE_STUBS),
    **{
        service: (ROOT / f"services/{service}/{service}", {service, "shared", "shop_contracts"} | THIRD_PARTY_IN_LAMBDA)
        for service in SERVICES
    },
    "shopctl": (ROOT / "ops/shopctl/shopctl", {"shopctl", "shop_contracts", "boto3", "botocore", "typer", "rich"}),
}


def imported_modules(package: Path) -> dict[str, set[str]]:
    """The modules each module under `package` imports, by file path (relative imports skipped)."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        if ".aws-sam" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def imported_packages(package: Path) -> dict[str, set[str]]:
    """The top-level packages, outside the standard library, each module under `package` imports."""
    return {
        module: {name.split(".")[0] for name in names} - STANDARD for module, names in imported_modules(package).items()
    }


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_the_product_imports_only_its_own_rooms_and_never_the_workshop(room: str) -> None:
    package, allowed = ROOMS[room]
    imports = imported_packages(package)
    strays = {module: sorted(names - allowed) for module, names in imports.items() if names - allowed}
    assert strays == {}


def test_nothing_imports_the_benchmark() -> None:
    # Its own modules and its own test only: it patches botocore (tools/bench/hook), so it must never be
    # on a path the product or another tool runs.
    importers = [
        module
        for tree in ("contracts", "shared", "services", "ops", "tools", "tests")
        for module, names in imported_modules(ROOT / tree).items()
        if not module.startswith(("tools/bench/", "tests/tools/test_bench.py"))
        and any(name == "tools.bench" or name.startswith("tools.bench.") for name in names)
    ]
    assert importers == []


def test_shopctl_is_a_package_of_its_own_with_only_what_it_imports_as_dependencies() -> None:
    project = tomllib.loads((ROOT / "ops/shopctl/pyproject.toml").read_text())["project"]
    declared = {re.split("[<>=]", requirement)[0].strip() for requirement in project["dependencies"]}
    assert declared == {"boto3", "typer", "rich", "shop-saga-contracts"}
    assert project["scripts"] == {"shopctl": "shopctl.app:main"}
    # Loaded, it holds nothing of the services, shared or the workshop (botocore comes with boto3).
    code = "import sys, shopctl.app; print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert loaded & {"tools", "tests", "shared", *SERVICES} == set()

"""docs/consumers.md followed literally: a new team's stack made of the guide's own snippets (its template, its
handler, its requirements, its samconfig, its shell commands), deployed beside the shop on the local cloud,
receives an order's outcome. Only what the guide tells a reader to fill in is filled in: where the shop's
repository is, and which local cloud and shop stack (this run's, not the defaults)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener, wait_for
from tests.e2e.saga import place, settle

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "consumers.md"


def snippets(language: str) -> list[str]:
    """The guide's fenced blocks of one language, in order, their list indentation removed."""
    found = re.findall(rf"^( *)```{language}\n(.*?)^\1```", GUIDE.read_text(), re.MULTILINE | re.DOTALL)
    return ["\n".join(line.removeprefix(indent) for line in body.splitlines()) + "\n" for indent, body in found]


def team_project(folder: Path, shop_stack: str, team_stack: str) -> None:
    """The files the guide's steps 3 to 5 write, from its snippets."""
    template = next(s for s in snippets("yaml") if "OrderOutcomeSubscription" in s)
    (folder / "template.yaml").write_text(template)
    (folder / "blocks").mkdir()
    shutil.copy(ROOT / "blocks" / "consumer.yaml", folder / "blocks" / "consumer.yaml")  # "your copy"
    handler = folder / "src" / "notifications" / "handler.py"
    handler.parent.mkdir(parents=True)
    [code] = snippets("python")
    handler.write_text(code)
    (handler.parent / "__init__.py").write_text("")
    [requirements] = snippets("text")
    (folder / "src" / "requirements.txt").write_text(requirements)
    [samconfig] = snippets("toml")
    assert 'parameter_overrides = "ShopStackName=shop-saga Local=true"' in samconfig
    samconfig = samconfig.replace("ShopStackName=shop-saga", f"ShopStackName={shop_stack}")
    (folder / "samconfig.toml").write_text(samconfig.replace('"shop-notifications"', f'"{team_stack}"'))


def test_a_team_that_follows_the_guide_receives_the_shops_events(
    tmp_path: Path, api: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    shop_stack = os.environ["AWS_SAM_STACK_NAME"]
    team_stack = f"{shop_stack}-guide-team"
    team_project(tmp_path, shop_stack, team_stack)
    [commands] = [s for s in snippets("bash") if "sam deploy --config-env local" in s]
    commands = commands.replace("http://127.0.0.1:4566", os.environ["AWS_ENDPOINT_URL"])
    deployed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=tmp_path,
        env={**os.environ, "SHOP": str(ROOT), "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]

    order_id = place(api, [(new_product(5), 1)], "10.00")
    assert settle(api, bus, order_id)["status"] == "CONFIRMED"

    function = boto3.client("cloudformation").describe_stack_resource(
        StackName=team_stack, LogicalResourceId="NotifyFunction"
    )["StackResourceDetail"]["PhysicalResourceId"]
    logs = boto3.client("logs")

    def told() -> list[dict[str, Any]] | None:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        lines = [e["message"] for e in events if order_id in e["message"] and "order outcome" in e["message"]]
        return [{"line": line} for line in lines] or None

    [line] = wait_for(told, timeout=90, what="the guide team's log of the order's outcome")
    assert '"outcome":"OrderConfirmed"' in line["line"].replace(" ", ""), line

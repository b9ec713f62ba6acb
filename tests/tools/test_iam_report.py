"""The permission report judges recorded calls against a function's grants with ministack's own evaluator.

It runs on ministack's interpreter (as tools/dev/e2e runs it), here on a saved inventory instead of a cloud.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venvs" / "ministack" / "bin" / "python"
TABLE = "arn:aws:dynamodb:us-east-1:000000000000:table/shop-OrderTable-ABC"
BUS = "arn:aws:events:us-east-1:000000000000:event-bus/shop-bus"
RELAY = "shop-OrderOutboxRelayFunction-XYZ"
PRINCIPAL = f"arn:aws:sts::000000000000:assumed-role/shop-order-publisher/{RELAY}"

INVENTORY = {
    "names": {"shop-OrderTable-ABC": "OrderTable", "shop-bus": "EventBus"},
    "functions": {
        RELAY: {
            "logical_id": "OrderOutboxRelayFunction",
            "stack": "shop",
            "role_arn": "arn:aws:iam::000000000000:role/shop-order-publisher",
            "grants": [
                {
                    "origin": "inline policy publish-order-outbox",
                    "statement": {
                        "Effect": "Allow",
                        "Action": "events:PutEvents",
                        "Resource": BUS,
                        "Condition": {"StringEquals": {"events:source": "shop.order"}},
                    },
                },
                {
                    "origin": "inline policy publish-order-outbox",
                    "statement": {
                        "Effect": "Allow",
                        "Action": ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem"],
                        "Resource": TABLE,
                        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["OUTBOX#*"]}},
                    },
                },
            ],
        }
    },
}


def call(action: str, resource: str, context: dict[str, Any] | None = None, decision: str = "Allow") -> dict[str, Any]:
    return {
        "principal": PRINCIPAL,
        "action": action,
        "resource": resource,
        "context": context or {},
        "decision": decision,
    }


def report(tmp_path: Path, records: list[dict[str, Any]], justified: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "inventory.json").write_text(json.dumps(INVENTORY))
    (tmp_path / "decisions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "justified.toml").write_text(justified)
    command = [
        str(PYTHON),
        str(ROOT / "tools" / "dev" / "iam_report.py"),
        "--inventory",
        str(tmp_path / "inventory.json"),
    ]
    command += ["--decisions", str(tmp_path / "decisions.jsonl"), "--unexercised", str(tmp_path / "justified.toml")]
    command += ["--json", str(tmp_path / "report.json")]
    return subprocess.run(command, capture_output=True, text=True, check=False)


PUBLISHED = call("events:PutEvents", BUS, {"events:source": "shop.order"})
REMOVED = call("dynamodb:BatchWriteItem", TABLE, {"dynamodb:leadingkeys": ["OUTBOX#1"]})
DELETE_JUSTIFIED = """
[[unexercised]]
why = "a refused row is deleted alone"
functions = ["OrderOutboxRelayFunction"]
actions = ["dynamodb:DeleteItem"]
"""


def test_every_call_allowed_and_every_grant_used_or_justified_passes(tmp_path: Path) -> None:
    done = report(tmp_path, [PUBLISHED, REMOVED, REMOVED], DELETE_JUSTIFIED)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 functions, 3 calls, 0 denied" in done.stdout
    assert "OrderOutboxRelayFunction      2  Allow     dynamodb:BatchWriteItem on " in done.stdout
    assert "table/<OrderTable>" in done.stdout  # physical names are shown by logical id
    assert "a refused row is deleted alone" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text())["failures"] == []


def test_a_denied_call_fails_naming_the_function_the_action_and_the_resource(tmp_path: Path) -> None:
    denied = call("dynamodb:BatchWriteItem", TABLE, decision="ImplicitDeny")

    done = report(tmp_path, [PUBLISHED, REMOVED, denied], DELETE_JUSTIFIED)

    assert done.returncode == 1
    assert (
        "DENIED: OrderOutboxRelayFunction called dynamodb:BatchWriteItem on "
        "arn:aws:dynamodb:us-east-1:000000000000:table/<OrderTable> (ImplicitDeny, 1x)"
    ) in done.stdout


def test_a_grant_no_call_used_fails_unless_justified(tmp_path: Path) -> None:
    done = report(tmp_path, [PUBLISHED, REMOVED])

    assert done.returncode == 1
    assert "UNJUSTIFIED" in done.stdout and "dynamodb:DeleteItem on arn:aws:dynamodb" in done.stdout
    [failure] = json.loads((tmp_path / "report.json").read_text())["failures"]
    assert failure.startswith("UNUSED: OrderOutboxRelayFunction is granted dynamodb:DeleteItem")


def test_a_call_outside_a_statements_condition_does_not_use_that_statement(tmp_path: Path) -> None:
    # Judged with the condition keys the local cloud recorded: a removal of another kind of row is not a use
    # of the outbox-only grant (nor is a publication of another source a use of the publish grant).
    other_rows = call("dynamodb:BatchWriteItem", TABLE, {"dynamodb:leadingkeys": ["ORDER#1"]})
    other_source = call("events:PutEvents", BUS, {"events:source": "shop.payment"})

    done = report(tmp_path, [other_rows, other_source], DELETE_JUSTIFIED)

    assert done.returncode == 1
    unused = {entry["action"] for entry in json.loads((tmp_path / "report.json").read_text())["unused"]}
    assert unused == {"events:PutEvents", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}

"""The permission report: every AWS call each function made, checked against its role; the grants no call used.

    .venvs/ministack/bin/python tools/dev/iam_report.py --decisions .localcloud/<port>/iam-decisions.jsonl \
        --stack shop-saga-e2e [--stack more] --unexercised tests/e2e/grants_not_exercised.toml [--json out.json]
        [--save-inventory inventory.json | --inventory inventory.json (instead of --stack: no cloud needed)]

Run by `tools/dev/e2e` after the end-to-end and fault runs, on ministack's interpreter: it judges with
ministack's own IAM evaluator (the one that decided each call live, tools/dev/localcloud_server.py), so
the report and the local cloud cannot disagree about what a statement allows. Reads the decisions the
local cloud recorded and, through AWS_ENDPOINT_URL, each stack's functions, their roles' policies (inline
and managed) and the key policies that name a role.

Fails (exit 1) when
- a function made a call that was not allowed (the function, action and resource are named), or
- a function's role grants an action no call used and `--unexercised` does not say why it must stay
  (least privilege: remove the grant, or name the rare path that needs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from ministack.core.iam_evaluator import (  # type: ignore[import-not-found]
    EvalContext,
    ParsedStatement,
    _conditions_met,
    _resource_matches,
    fnmatch_iam,
    parse_policy_document,
)

ACCOUNT = "000000000000"
REGION = "us-east-1"


@dataclass(frozen=True)
class Grant:
    """One policy statement that grants a function something (as IAM stores it), and where it comes from."""

    origin: str  # "inline policy X", "managed policy ARN", "key policy of K"
    statement: dict[str, Any]

    @property
    def parsed(self) -> ParsedStatement:
        """The statement as ministack's evaluator reads it."""
        [parsed] = parse_policy_document({"Statement": [self.statement]})
        return parsed


@dataclass
class Function:
    """A deployed function: its name in the template, its role and what the role grants."""

    logical_id: str
    stack: str
    role_arn: str
    grants: list[Grant] = field(default_factory=list)


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Inventory:
    """What the stacks hold: their functions by physical name, and physical ids to name in the report."""

    functions: dict[str, Function] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # physical id -> logical id

    def readable(self, resource: str) -> str:
        """A resource ARN with each physical id the stacks created replaced by its logical id, and each
        order's id (a schedule's name) by <id>, so that calls group by what they touch."""
        for physical, logical in sorted(self.names.items(), key=lambda pair: -len(pair[0])):
            if physical and physical in resource:
                resource = resource.replace(physical, f"<{logical}>")
        return _ID.sub("<id>", resource)

    def to_json(self) -> dict[str, Any]:
        """All of it as JSON, to judge again without the cloud (`--inventory`)."""
        return {
            "names": self.names,
            "functions": {
                name: {
                    **{k: v for k, v in vars(f).items() if k != "grants"},
                    "grants": [{"origin": g.origin, "statement": g.statement} for g in f.grants],
                }
                for name, f in self.functions.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inventory:
        """What `to_json` wrote."""
        functions = {
            name: Function(
                body["logical_id"], body["stack"], body["role_arn"], [Grant(**grant) for grant in body["grants"]]
            )
            for name, body in data["functions"].items()
        }
        return cls(functions, dict(data["names"]))


def _stack_resources(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    found = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        found += page["StackResourceSummaries"]
    return found


def collect(stacks: list[str]) -> Inventory:
    """Each stack's functions (nested stacks included) with their roles' grants, from the local cloud."""
    cloudformation: Any = boto3.client("cloudformation")
    lambdas: Any = boto3.client("lambda")
    iam: Any = boto3.client("iam")
    kms: Any = boto3.client("kms")
    inventory = Inventory()
    keys: list[str] = []
    pending = [(stack, "") for stack in stacks]  # a nested stack's resources are named <Nested>.<Resource>
    while pending:
        stack, prefix = pending.pop()
        for resource in _stack_resources(cloudformation, stack):
            physical, logical, kind = (
                resource["PhysicalResourceId"],
                resource["LogicalResourceId"],
                resource["ResourceType"],
            )
            inventory.names[physical.rsplit("/", 1)[-1]] = prefix + logical
            if kind == "AWS::CloudFormation::Stack":
                pending.append((physical, f"{prefix}{logical}."))
            elif kind == "AWS::KMS::Key":
                keys.append(physical)
            elif kind == "AWS::Lambda::Function":
                role = lambdas.get_function_configuration(FunctionName=physical)["Role"]
                inventory.functions[physical] = Function(logical, stack, role)
    key_policies = {key: json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) for key in keys}
    for function in inventory.functions.values():
        function.grants = _role_grants(iam, function.role_arn) + _key_policy_grants(key_policies, function.role_arn)
    return inventory


def _role_grants(iam: Any, role_arn: str) -> list[Grant]:
    role = role_arn.rsplit("/", 1)[-1]
    grants = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        grants += [Grant(f"inline policy {name}", statement) for statement in _statements(document)]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        arn = attached["PolicyArn"]
        try:
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        except iam.exceptions.NoSuchEntityException:
            # An AWS managed policy the local cloud does not hold: reported, judged by its justification.
            unknown = {"Effect": "Allow", "Action": f"<{arn}>", "Resource": "*"}
            grants.append(Grant(f"managed policy {arn}", unknown))
            continue
        grants += [Grant(f"managed policy {arn}", statement) for statement in _statements(document)]
    return grants


def _statements(document: Any) -> list[dict[str, Any]]:
    document = json.loads(document) if isinstance(document, str) else document
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _names(principal: Any, arn: str) -> bool:
    values = principal.get("AWS") if isinstance(principal, dict) else principal
    return arn in ([values] if isinstance(values, str) else values or [])


def _key_policy_grants(key_policies: dict[str, dict[str, Any]], role_arn: str) -> list[Grant]:
    return [
        Grant(f"key policy of {key}", statement)
        for key, policy in key_policies.items()
        for statement in _statements(policy)
        if _names(statement.get("Principal"), role_arn)
    ]


def load_decisions(path: Path) -> list[dict[str, Any]]:
    """The decisions the local cloud recorded, one JSON object per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _function_of(principal: str, inventory: Inventory) -> Function | None:
    # A Lambda calls as arn:aws:sts::<account>:assumed-role/<role>/<function name>.
    if ":assumed-role/" not in principal:
        return None
    return inventory.functions.get(principal.rsplit("/", 1)[-1])


def _allows(statement: ParsedStatement, action: str, record: dict[str, Any]) -> bool:
    context = EvalContext(
        principal_arn=record["principal"],
        principal_type="AssumedRole",
        principal_account=ACCOUNT,
        action=record["action"],
        resource_arn=record["resource"],
        region=REGION,
        service_context={key.lower(): value for key, value in record.get("context", {}).items()},
    )
    return bool(
        statement.effect == "Allow"
        and fnmatch_iam(record["action"], action)
        and _resource_matches(record["resource"], statement.resources, statement.not_resources)
        and _conditions_met(statement.conditions, context)
    )


@dataclass(frozen=True)
class Justification:
    """Why a grant no run exercises must stay."""

    functions: tuple[str, ...]
    actions: tuple[str, ...]
    why: str
    resources: tuple[str, ...] = ("*",)  # patterns of the readable resource (<LogicalId> names)

    def covers(self, function: str, action: str, resource: str) -> bool:
        """Whether this names the function (or every function), the action and the resource (wildcards)."""
        return (
            ("*" in self.functions or function in self.functions)
            and any(fnmatch_iam(action, pattern) or action == pattern for pattern in self.actions)
            and any(fnmatch_iam(resource, pattern) for pattern in self.resources)
        )


def load_justifications(path: Path | None) -> list[Justification]:
    """The `[[unexercised]]` entries of a TOML file: functions, actions, optional resources, why."""
    if path is None:
        return []
    entries = tomllib.loads(path.read_text()).get("unexercised", [])
    return [
        Justification(
            tuple(entry["functions"]), tuple(entry["actions"]), entry["why"], tuple(entry.get("resources", ["*"]))
        )
        for entry in entries
    ]


@dataclass
class Report:
    """What the judge found."""

    calls: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)  # function, action, resource, decision
    denied: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    unused: list[dict[str, str]] = field(default_factory=list)  # function, action, resource, origin, why
    others: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # principal, action, decision

    @property
    def failures(self) -> list[str]:
        """Each reason the run fails, in words."""
        found = [
            f"DENIED: {function} called {action} on {resource} ({decision}, {count}x): its role does not allow it"
            for (function, action, resource, decision), count in sorted(self.denied.items())
        ]
        found += [
            f"UNUSED: {entry['function']} is granted {entry['action']} on {entry['resource']} ({entry['origin']}) "
            "and no call used it: remove the grant, or say in --unexercised why it stays"
            for entry in self.unused
            if not entry["why"]
        ]
        return found


def judge(inventory: Inventory, records: list[dict[str, Any]], justified: list[Justification]) -> Report:
    """Check every recorded call of each function against its grants; find the grants nothing used."""
    report = Report()
    used: set[tuple[str, int, str]] = set()  # function, grant index, action pattern
    for record in records:
        function = _function_of(record["principal"], inventory)
        if function is None:
            # Operators and test users are shown; the account's administrator (the tests behind the API)
            # and other stacks' functions (judged by their own report) are not.
            if ":user/" in record["principal"] or record["principal"] == "anonymous":
                report.others[(record["principal"], record["action"], record["decision"])] += 1
            continue
        key = (function.logical_id, record["action"], inventory.readable(record["resource"]), record["decision"])
        report.calls[key] += 1
        if record["decision"] != "Allow":
            report.denied[key] += 1
            continue
        for index, grant in enumerate(function.grants):
            statement = grant.parsed
            for action in statement.actions:
                if _allows(statement, action, record):
                    used.add((function.logical_id, index, action))
    for function in sorted(inventory.functions.values(), key=lambda f: f.logical_id):
        for index, grant in enumerate(function.grants):
            statement = grant.parsed
            if statement.effect != "Allow":
                continue
            resources = ", ".join(inventory.readable(r) for r in statement.resources) or "*"
            for action in statement.actions:
                if (function.logical_id, index, action) in used:
                    continue
                why = next((j.why for j in justified if j.covers(function.logical_id, action, resources)), "")
                report.unused.append(
                    {
                        "function": function.logical_id,
                        "action": action,
                        "resource": resources,
                        "origin": grant.origin,
                        "why": why,
                    }
                )
    return report


def render(report: Report) -> str:
    """The report as text: calls by function, other principals, unused grants with their reasons."""
    lines = ["permission report: every AWS call each function made, against its role (IAM enforced)"]
    if not report.calls:
        lines.append("  no call by any of these functions was recorded")
    width = max((len(function) for function, *_ in report.calls), default=10)
    lines.append(f"  {'function':<{width}}  {'calls':>5}  decision  action on resource")
    for (function, action, resource, decision), count in sorted(report.calls.items()):
        lines.append(f"  {function:<{width}}  {count:>5}  {decision:<8}  {action} on {resource}")
    called = {function for function, *_ in report.calls}
    lines.append(f"  {len(called)} functions, {sum(report.calls.values())} calls, {sum(report.denied.values())} denied")
    if report.others:
        lines.append("other principals (operators, test users):")
        lines += [
            f"  {count:>5}  {decision:<12}  {principal}  {action}"
            for (principal, action, decision), count in sorted(report.others.items())
        ]
    lines.append(f"grants no call used ({len(report.unused)}), by why each stays:")
    by_reason: dict[str, list[dict[str, str]]] = defaultdict(list)
    for entry in report.unused:
        by_reason[entry["why"]].append(entry)
    for why, entries in sorted(by_reason.items(), key=lambda pair: (bool(pair[0]), pair[0])):
        lines.append(f"  {why or 'UNJUSTIFIED'}")
        grouped: dict[str, list[str]] = defaultdict(list)
        for entry in entries:
            grouped[f"{entry['action']} on {entry['resource']}"].append(entry["function"])
        for grant, functions in sorted(grouped.items()):
            named = ", ".join(sorted(functions)) if len(functions) <= 4 else f"{len(functions)} functions"
            lines.append(f"      {grant}: {named}")
    unjustified = sum(1 for entry in report.unused if not entry["why"])
    denied = [failure for failure in report.failures if failure.startswith("DENIED")]
    verdict = "FAIL" if report.failures else "ok"
    lines.append(f"verdict: {verdict}: {len(denied)} denied call(s), {unjustified} unjustified unused grant(s)")
    lines += [f"  {failure}" for failure in denied]
    if unjustified:
        lines.append(
            "  each UNJUSTIFIED grant above: remove it from the template, or say in --unexercised why it stays"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=Path, required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", action="append", help="a stack whose functions to check (AWS_ENDPOINT_URL)")
    where.add_argument("--inventory", type=Path, help="the functions and grants a --save-inventory wrote")
    parser.add_argument("--save-inventory", type=Path, help="also write the stacks' functions and grants here")
    parser.add_argument("--unexercised", type=Path, help="TOML: why each grant no run exercises must stay")
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    parser.add_argument(
        "--denials-only", action="store_true", help="judge only the calls (a run that exercises one path)"
    )
    args = parser.parse_args(argv)
    inventory = Inventory.from_json(json.loads(args.inventory.read_text())) if args.inventory else collect(args.stack)
    if args.save_inventory:
        args.save_inventory.write_text(json.dumps(inventory.to_json(), indent=1) + "\n")
    report = judge(inventory, load_decisions(args.decisions), load_justifications(args.unexercised))
    if args.denials_only:
        report.unused = []
    print(render(report))
    if args.json:
        calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (function, action, resource, decision), count in sorted(report.calls.items()):
            calls[function].append({"action": action, "resource": resource, "decision": decision, "calls": count})
        args.json.write_text(
            json.dumps({"calls": calls, "unused": report.unused, "failures": report.failures}, indent=1) + "\n"
        )
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())

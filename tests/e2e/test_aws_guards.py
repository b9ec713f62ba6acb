"""AWS's guards, on the local cloud: what AWS would refuse before or while it runs the stack is refused here.

The local cloud runs with IAM enforced (tools/dev/e2e starts it with --auth; its health says so), fills in the
condition keys AWS evaluates (tools/dev/localcloud_server.py), and checks deploy capabilities. These tests
run the AWS environment of samconfig.toml as far as the local cloud can take it, and show that a missing
capability and a missing grant are each caught and named (the negative controls of the permission report
that tools/dev/e2e prints after every run).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.exceptions import ClientError

from shopctl.stack import ApiClient, api_base_url, customer_token, stack_outputs, wait_until_priced
from tests.e2e.conftest import PASSWORD, iam_user, wait_for
from tests.e2e.saga import place

ROOT = Path(__file__).resolve().parents[2]
SAMCONFIG = ROOT / "samconfig.toml"
BUILD = ROOT / ".aws-sam" / "build"
SAM = ROOT / ".venvs" / "sam" / "bin" / "sam"
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "")
DECISIONS = ROOT / ".localcloud" / str(urlparse(ENDPOINT).port) / "iam-decisions.jsonl"
AWS_CAPABILITIES = tomllib.loads(SAMCONFIG.read_text())["default"]["deploy"]["parameters"]["capabilities"].split()
# The resource types of the AWS environment the local cloud does not know (docs/decisions.md lists them): its
# change set refuses them, and the archive-less "AWS form" below leaves them out.
UNKNOWN_TO_THE_LOCAL_CLOUD = {"AWS::Events::Archive", "AWS::WAFv2::WebACLAssociation"}


def sam(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The SAM CLI against the local cloud, with the project's samconfig.toml whatever the template."""
    return subprocess.run(
        [str(SAM), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=os.environ.copy(), check=False
    )


def deploy(*args: str) -> subprocess.CompletedProcess[str]:
    return sam("deploy", "--config-file", str(SAMCONFIG), *args)


def built_template() -> dict[str, Any]:
    """What `sam build` wrote, as JSON in CloudFormation's long form (SAM's own parser reads it)."""
    python = ROOT / ".venvs" / "sam" / "bin" / "python"
    printed = subprocess.run(
        [str(python), "-m", "tests.support.built_template"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded: dict[str, Any] = json.loads(printed.stdout)
    return loaded


def variant(name: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the built template, changed, beside it (its code paths are relative to the build folder)."""
    template = built_template()
    change(template)
    path = BUILD / f"{name}.json"
    path.write_text(json.dumps(template))
    return path


def permission_report(*stacks: str) -> subprocess.CompletedProcess[str]:
    """The permission report's verdict on the calls these stacks' functions made (tools/dev/iam_report.py)."""
    python = ROOT / ".venvs" / "ministack" / "bin" / "python"
    named = [arg for stack in stacks for arg in ("--stack", stack)]
    command = [str(python), str(ROOT / "tools" / "dev" / "iam_report.py"), "--decisions", str(DECISIONS), *named]
    return subprocess.run(
        [*command, "--denials-only"], capture_output=True, text=True, env=os.environ.copy(), check=False
    )


@pytest.fixture
def stack_named() -> Iterator[Callable[[str], str]]:
    """Names for stacks of a test's own, deleted afterwards (their retained tables stay, as on AWS)."""
    made: list[str] = []

    def name(suffix: str) -> str:
        made.append(f"{os.environ['AWS_SAM_STACK_NAME']}-{suffix}")
        return made[-1]

    yield name
    for stack in made:
        sam("delete", "--stack-name", stack, "--no-prompts", "--region", "us-east-1")


def test_the_local_cloud_enforces_iam() -> None:
    with urllib.request.urlopen(f"{ENDPOINT}/_ministack/health", timeout=5) as response:
        assert json.loads(response.read())["auth"] == "enabled"


def test_a_publisher_grant_puts_only_its_own_source_and_removes_only_outbox_rows(outputs: dict[str, str]) -> None:
    # The order publisher's own policy, on a user of ours: the local cloud judges its conditions as AWS
    # does (events:source, dynamodb:LeadingKeys), though ministack alone fills in neither key.
    iam = boto3.client("iam")
    role = f"{os.environ['AWS_SAM_STACK_NAME']}-order-publisher"
    document = iam.get_role_policy(RoleName=role, PolicyName="publish-order-outbox")["PolicyDocument"]
    policy = iam.create_policy(PolicyName=f"publisher-copy-{uuid.uuid4().hex[:8]}", PolicyDocument=json.dumps(document))
    user = iam_user(f"e2e-publisher-{uuid.uuid4().hex[:8]}", policy["Policy"]["Arn"])
    events, dynamodb = user.session().client("events"), user.session().client("dynamodb")

    def put(source: str) -> Any:
        entry: Any = {
            "EventBusName": outputs["EventBusName"],
            "Source": source,
            "DetailType": "E2eProbe",
            "Detail": "{}",
        }
        return events.put_events(Entries=[entry])

    assert put("shop.order")["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as refused:
        put("shop.payment")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"

    def remove(key: str) -> Any:
        request: Any = {outputs["OrderTableName"]: [{"DeleteRequest": {"Key": {"pk": {"S": key}}}}]}
        return dynamodb.batch_write_item(RequestItems=request)

    assert remove(f"OUTBOX#{uuid.uuid4()}")["UnprocessedItems"] == {}
    with pytest.raises(ClientError) as refused:
        remove(f"ORDER#{uuid.uuid4()}")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_deploy_without_a_capability_the_template_needs_is_refused_naming_it(
    stack_named: Callable[[str], str],
) -> None:
    granted = [capability for capability in AWS_CAPABILITIES if capability != "CAPABILITY_NAMED_IAM"]

    refused = deploy(
        "--config-env", "local", "--stack-name", stack_named("capabilities"), "--no-execute-changeset",
        "--capabilities", *granted,
    )  # fmt: skip

    said = refused.stdout + refused.stderr
    assert refused.returncode != 0, said
    assert "InsufficientCapabilitiesException" in said and "CAPABILITY_NAMED_IAM" in said, said


def test_the_readme_aws_deploy_is_refused_only_by_the_types_the_local_cloud_does_not_know(
    stack_named: Callable[[str], str],
) -> None:
    # `sam deploy` with the AWS environment (its capabilities, Local=false, no simulator), as far as the
    # change set. The local cloud does not know some of its types (the archive, the WAF association): those,
    # and only those, may refuse it; a capability or parameter AWS would refuse fails here before them.
    refused = deploy("--stack-name", stack_named("aws"), "--no-execute-changeset")

    said = refused.stdout + refused.stderr
    assert "Capabilities                 : " + json.dumps(AWS_CAPABILITIES) in said, said
    assert '"Local": "false"' in said and '"PaymentSimulator": "false"' in said, said
    [unknown] = re.findall(r"Unrecognized resource types: \[([^\]]*)\]", said) or [""]
    assert refused.returncode != 0 and set(unknown.split(", ")) == UNKNOWN_TO_THE_LOCAL_CLOUD, said


def test_the_aws_form_runs_a_saga_with_every_call_allowed(
    stack_named: Callable[[str], str],
) -> None:
    # Everything the AWS environment deploys but what the local cloud does not know, executed: tracing on,
    # AWS's stream retry window, the WAF's web ACL, no payment provider wired in (so an order is declined,
    # `no_payment_provider`), every function calling as its own role.
    stack = stack_named("aws-form")

    def known(template: dict[str, Any]) -> None:
        resources = template["Resources"]
        for name in [name for name, body in resources.items() if body["Type"] in UNKNOWN_TO_THE_LOCAL_CLOUD]:
            del resources[name]

    template = variant(stack, known)

    deployed = deploy("--stack-name", stack, "--template-file", str(template), "--no-confirm-changeset")

    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    outputs = stack_outputs(stack)
    operator = iam_user(f"e2e-operator-{uuid.uuid4().hex[:8]}", outputs["OperatorPolicyArn"])
    api = ApiClient(api_base_url(outputs))
    product = f"AWS-{uuid.uuid4().hex[:8]}"
    put = api.as_operator(operator.credentials).call(
        "PUT", f"/products/{product}", {"name": product, "price": "10.00", "available": 3}
    )
    assert put.status == 200, put.body
    wait_until_priced(stack, {product: "10.00"})
    customer = api.as_customer(customer_token(outputs, f"aws-{uuid.uuid4().hex[:8]}@e2e.example", PASSWORD))
    order_id = place(customer, [(product, 1)], "10.00")

    def final() -> dict[str, Any] | None:
        order = customer.call("GET", f"/orders/{order_id}").body
        return order if (order.get("saga") or {}).get("status") == "CANCELLED" else None

    order = wait_for(final, timeout=90, what=f"the AWS form's order {order_id} cancelled")
    assert (order["status"], order["cancellationReason"]) == ("CANCELLED", "payment_declined")
    verdict = permission_report(stack)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "0 denied" in verdict.stdout


def test_a_grant_missing_from_the_template_is_caught_naming_function_action_and_resource(
    stack_named: Callable[[str], str],
) -> None:
    # The relays' defect before this tier existed: a delete grant without BatchWriteItem, which the relay
    # calls. Every order then publishes and fails on the removal; consumers dedupe, so nothing else shows.
    stack = stack_named("grantless")

    def without_batch_delete(template: dict[str, Any]) -> None:
        statements = template["Resources"]["OrderPublisherRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        for statement in statements["Statement"]:
            if "dynamodb:BatchWriteItem" in statement["Action"]:
                statement["Action"] = [a for a in statement["Action"] if a != "dynamodb:BatchWriteItem"]

    template = variant(stack, without_batch_delete)
    deployed = deploy(
        "--config-env", "local", "--stack-name", stack, "--template-file", str(template),
        "--capabilities", *AWS_CAPABILITIES,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    # One outbox row, as a step would commit it: the relay publishes it, then tries to remove it.
    table = boto3.resource("dynamodb").Table(stack_outputs(stack)["OrderTableName"])
    table.put_item(
        Item={"pk": f"OUTBOX#{uuid.uuid4()}", "source": "shop.order", "detailType": "E2eProbe", "detail": "{}",
              "outboxState": "PENDING", "outboxAt": 0}
    )  # fmt: skip

    def denied() -> bool | None:
        return (
            any(
                '"dynamodb:BatchWriteItem"' in line and stack in line and '"Allow"' not in line
                for line in DECISIONS.read_text().splitlines()
            )
            or None
        )

    wait_for(denied, timeout=60, what="the relay's removal denied")
    verdict = permission_report(stack)

    assert verdict.returncode == 1, verdict.stdout
    assert (
        "DENIED: OrderOutboxRelayFunction called dynamodb:BatchWriteItem on "
        "arn:aws:dynamodb:us-east-1:000000000000:table/<OrderTable>"
    ) in verdict.stdout, verdict.stdout

"""The template's promises that are about trust rather than routing: least privilege and test seams."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from payment.models.payment import CLAIM_LEASE_SECONDS
from shared.payment_tokens import PURPOSE
from shared.settings import Settings
from tools.template import (
    TEMPLATE,
    consumer_block,
    forward_block,
    load,
    resource,
    resources_of_type,
    subscriptions,
    template,
)

FUNCTIONS = resources_of_type("AWS::Serverless::Function")
TEST_SWITCHES = {"FAULT_INJECTION", "TEST_SEAMS_TABLE_NAME", "ONCE_ONLY_GUARDS"}


def _settings_aliases() -> set[str]:
    """Every environment variable some settings model of the code reads."""
    for function in FUNCTIONS.values():
        importlib.import_module(function["Properties"]["Handler"].rsplit(".", 1)[0])
    aliases: set[str] = set()
    pending: list[type[Any]] = [Settings]
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        aliases |= {field.alias for field in model.model_fields.values() if field.alias}
    return aliases


def test_every_variable_a_function_gets_is_read_by_its_code() -> None:
    read = _settings_aliases() | {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE"}
    for name, function in FUNCTIONS.items():
        variables = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        assert variables <= read, f"{name} gets variables nothing reads: {variables - read}"


def test_only_the_api_reads_the_projectors_table_beside_the_projector() -> None:
    readers = {name for name, function in FUNCTIONS.items() if "SagaTable" in json.dumps(function["Properties"])}
    assert readers == {"OrderApiFunction", "SagaOnSagaEventFunction", "SagaWatchFunction"}
    api = json.dumps(resource("OrderApiFunction")["Properties"]["Policies"])
    assert '"Action": ["dynamodb:BatchGetItem"], "Resource": {"GetAtt": "SagaTable.Arn"}' in api


def test_no_function_may_scan_or_delete_a_table_and_queries_only_go_to_indexes() -> None:
    for name, function in FUNCTIONS.items():
        policies = function["Properties"].get("Policies", [])
        text = json.dumps(policies)
        assert "DynamoDBCrudPolicy" not in text, name
        for action in ("Scan", "DeleteItem", "BatchWriteItem", "dynamodb:*"):
            assert action not in text, f"{name} may {action}"
        for policy in policies:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if statement["Action"] == "dynamodb:Query":
                    assert "/index/" in json.dumps(statement["Resource"]), f"{name} may query a whole table"


def test_the_test_seams_exist_only_on_a_test_stack() -> None:
    for name in ("TestSeamsTable", "TestSeamsPolicy"):
        assert resource(name).get("Condition") == "FaultsOn", name
    roles = {role["Ref"] for role in resource("TestSeamsPolicy")["Properties"]["Roles"]}
    assert roles == {
        function["Properties"]["Role"]["GetAtt"].split(".")[0] if "Role" in function["Properties"] else f"{name}Role"
        for name, function in FUNCTIONS.items()
        if name != "SagaWatchFunction"  # it only reads an index: no fault seam to plan
    }
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    for switch in TEST_SWITCHES:
        assert variables[switch]["If"][2] == {"Ref": "AWS::NoValue"}, switch
    for name, function in FUNCTIONS.items():
        assert not TEST_SWITCHES & set(function["Properties"].get("Environment", {}).get("Variables", {})), name


def test_aws_refuses_the_test_switches() -> None:
    [rule] = template()["Rules"].values()
    assert rule["RuleCondition"] == {"Equals": [{"Ref": "Local"}, "false"]}
    asserted = {json.dumps(assertion["Assert"]) for assertion in rule["Assertions"]}
    assert asserted == {
        json.dumps({"Equals": [{"Ref": "FaultInjection"}, "false"]}),
        json.dumps({"Equals": [{"Ref": "OnceOnlyGuards"}, "true"]}),
        json.dumps({"Equals": [{"Ref": "LocalCloudEndpoint"}, ""]}),
    }


def test_every_function_declares_where_it_calls_aws_unset_unless_a_local_stack_names_it() -> None:
    # sam local invoke sets only the variables a template declares: declared for every function, an
    # --env-vars file can point each at the local stack (tools/dev/local_invoke.py); on AWS it is never set.
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AWS_ENDPOINT_URL"] == {
        "If": ["CallsLocalCloudEndpoint", {"Ref": "LocalCloudEndpoint"}, {"Ref": "AWS::NoValue"}]
    }
    assert template()["Conditions"]["CallsLocalCloudEndpoint"] == {
        "Not": [{"Equals": [{"Ref": "LocalCloudEndpoint"}, ""]}]
    }
    assert template()["Parameters"]["LocalCloudEndpoint"]["Default"] == ""


def test_only_the_order_api_seals_and_only_the_charging_function_opens_payment_tokens() -> None:
    statements = resource("PaymentTokenKey")["Properties"]["KeyPolicy"]["Statement"]
    use = {json.dumps(s["Principal"]["AWS"]): s["Action"] for s in statements if str(s["Action"]).startswith("kms:")}
    crypto = {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey",
        "kms:GenerateDataKey*",
        "kms:CreateGrant",
        "kms:*",
    }
    granted = {
        principal: actions
        for principal, actions in use.items()
        if set([actions] if isinstance(actions, str) else actions) & crypto
    }
    assert granted == {
        '{"GetAtt": "OrderApiFunctionRole.Arn"}': "kms:GenerateDataKey",
        '{"GetAtt": "PaymentOnOrderCreatedFunctionRole.Arn"}': "kms:Decrypt",
    }
    # Only for payment tokens: the context every data key and token carries (the local cloud judges it).
    for statement in statements:
        if statement.get("Action") in ("kms:GenerateDataKey", "kms:Decrypt"):
            assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": PURPOSE}}
    # The account administers the key but holds none of its uses (no wildcard that would include them).
    [admin] = [s for s in statements if s["Sid"] == "AdministerTheKeyWithoutUsingIt"]
    assert not set(admin["Action"]) & crypto and not any(
        a.startswith(("kms:Create", "kms:ReEncrypt", "kms:Gen", "kms:Decrypt", "kms:Encrypt")) for a in admin["Action"]
    )
    assert resource("PaymentTokenKey")["Properties"]["EnableKeyRotation"] is True
    readers = {name for name, f in FUNCTIONS.items() if "PaymentTokenKey" in json.dumps(f["Properties"])}
    assert readers == {"OrderApiFunction", "PaymentOnOrderCreatedFunction"}


def test_a_payment_claim_outlives_any_delivery_and_no_retry_waits_for_it() -> None:
    # A claim younger than the lease is never taken over (its delivery may still run), and a redelivery
    # comes no sooner than the visibility timeout, by when the lease has run out.
    timeouts = {
        f["Properties"].get("Timeout", template()["Globals"]["Function"]["Timeout"]) for f in FUNCTIONS.values()
    }
    assert max(timeouts) <= CLAIM_LEASE_SECONDS
    assert template()["Parameters"]["ConsumerVisibilityTimeout"]["MinValue"] >= CLAIM_LEASE_SECONDS


def test_every_samconfig_environment_that_deploys_lets_sam_cli_expand_the_templates_loops() -> None:
    # template.yaml uses Fn::ForEach (AWS::LanguageExtensions); SAM CLI expands it only when asked, and an
    # environment without the setting fails its build or deploy with "'list' object has no attribute 'get'".
    assert any(key.startswith("Fn::ForEach::") for key in load(TEMPLATE)["Resources"])
    config = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
    environments = [env for env, body in config.items() if isinstance(body, dict) and {"build", "deploy"} & set(body)]
    assert "e2e-negative" in environments and "bench" in environments
    lacking = [
        env
        for env in environments
        if not config[env].get("global", {}).get("parameters", {}).get("language_extensions")
    ]
    assert lacking == []


def test_the_payment_simulator_is_off_unless_a_stack_says_so() -> None:
    assert template()["Parameters"]["PaymentSimulator"]["Default"] == "false"
    config = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
    environments = {env: body for env, body in config.items() if isinstance(body, dict) and "deploy" in body}
    overrides = {env: body["deploy"]["parameters"]["parameter_overrides"] for env, body in environments.items()}
    assert "PaymentSimulator=false" in overrides["default"]  # AWS: explicit, so a later deploy resets it
    assert all("PaymentSimulator=true" in value for env, value in overrides.items() if env != "default")
    users = {name for name, function in FUNCTIONS.items() if "PAYMENT_SIMULATOR" in json.dumps(function)}
    assert users == {"PaymentOnOrderCreatedFunction", "PaymentOnOrderCancelledFunction"}


# -- operations (issue: operate it) ----------------------------------------------------------------


def test_every_function_is_traced_and_logs_to_a_group_with_a_retention() -> None:
    globals_ = template()["Globals"]["Function"]
    assert globals_["Tracing"] == "Active"
    assert template()["Globals"]["Api"]["TracingEnabled"] is True
    groups = resources_of_type("AWS::Logs::LogGroup")
    for name, function in resources_of_type("AWS::Serverless::Function").items():
        properties = function["Properties"]
        assert "Tracing" not in properties, name  # nobody opts out
        group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_every_alarm_notifies_the_alarm_topic() -> None:
    alarms = resources_of_type("AWS::CloudWatch::Alarm")
    expected = {"StuckSagasAlarm", "FailedSagasAlarm", "Api5xxAlarm", "RelayDeadLetterAlarm"}
    expected |= {f"{service}OutboxAgeAlarm" for service in ("Order", "Payment", "Inventory")}
    assert expected <= set(alarms)
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    # Every consumer's dead-letter alarm, in the building block, is given the same topic.
    for consumer, parameters in subscriptions().items():
        assert parameters["AlarmTopicArn"] == {"Ref": "AlarmTopic"}, consumer
    for block_alarm in ("DeadLetterAlarm", "FailedDeliveryAlarm"):
        actions = consumer_block()["Resources"][block_alarm]["Properties"]["AlarmActions"]
        assert actions == {"If": ["NotifiesTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}, block_alarm


def test_an_event_the_bus_cannot_deliver_to_a_consumer_is_dead_lettered_and_alarmed() -> None:
    block = consumer_block()["Resources"]
    [target] = block["Rule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"GetAtt": "DeadLetterQueue.Arn"}}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    [grant] = block["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Resource"] == [{"GetAtt": "Queue.Arn"}, {"GetAtt": "DeadLetterQueue.Arn"}]
    assert grant["Condition"] == {"ArnEquals": {"aws:SourceArn": {"GetAtt": "Rule.Arn"}}}
    alarm = block["FailedDeliveryAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "FailedInvocations")


def test_the_alarm_topic_the_dashboard_and_the_outputs_exist() -> None:
    topic = resource("AlarmTopic")["Properties"]
    assert topic["KmsMasterKeyId"] == "alias/aws/sns"
    assert resource("AlarmEmailSubscription")["Condition"] == "MailsAlarms"
    assert template()["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    body = resource("Dashboard")["Properties"]["DashboardBody"]["Sub"]
    widgets = json.loads(body)["widgets"]
    titles = {w["properties"]["title"] for w in widgets}
    assert {"Orders by outcome (per minute)", "Dead-letter queue depth per consumer", "Outbox age at publish (s)"} <= (
        titles
    )
    # One dead-letter queue line per consumer, and the relays' and deadlines' queues: each names its queue.
    [dlq_widget] = [w for w in widgets if w["properties"]["title"] == "Dead-letter queue depth per consumer"]
    queues = [metric[3] for metric in dlq_widget["properties"]["metrics"]]
    assert queues == [f"${{{c}Subscription.Outputs.DeadLetterQueueName}}" for c in subscriptions()] + [
        "${RelayDeadLetterQueue.QueueName}",
        "${OrderDeadlineDeadLetterQueue.QueueName}",
    ]
    assert {metric[2] for metric in dlq_widget["properties"]["metrics"]} == {"QueueName"}


def test_the_saga_watch_may_only_query_the_attention_index() -> None:
    watch = resource("SagaWatchFunction")["Properties"]
    [statement] = [s for p in watch["Policies"] for s in p["Statement"]]
    assert statement["Action"] == "dynamodb:Query"
    assert statement["Resource"] == {"Sub": "${SagaTable.Arn}/index/ByAttention"}


# -- AWS's guards (issue 23) -------------------------------------------------------------------------

NAMED_IAM = ("RoleName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName")


def test_every_deploy_environment_grants_the_capabilities_the_template_needs() -> None:
    # CloudFormation refuses a template that names an IAM resource unless CAPABILITY_NAMED_IAM is given,
    # before it creates anything (the local cloud with IAM enforced refuses it the same way: tests/e2e).
    named = {
        name
        for name, body in template()["Resources"].items()
        if body["Type"].startswith("AWS::IAM::") and set(NAMED_IAM) & set(body.get("Properties", {}))
    }
    assert named == {"OrderPublisherRole", "PaymentPublisherRole", "InventoryPublisherRole"}
    config = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
    for environment, body in config.items():
        if not isinstance(body, dict) or "deploy" not in body:
            continue
        granted = set(body["deploy"]["parameters"]["capabilities"].split())
        assert {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"} <= granted, environment


def test_the_example_teams_dead_letter_alarm_can_notify_its_own_topic() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "notifications" / "template.yaml"
    [parameters] = subscriptions(example).values()
    assert parameters["AlarmTopicArn"] == {"Ref": "AlarmTopicArn"}
    assert load(example)["Parameters"]["AlarmTopicArn"]["Default"] == ""  # the block's "notify nobody"


def test_the_example_team_is_traced_and_keeps_its_logs_a_bounded_time() -> None:
    example = load(Path(__file__).resolve().parents[2] / "examples" / "notifications" / "template.yaml")
    function = example["Resources"]["NotifyFunction"]["Properties"]
    assert function["Tracing"] == "Active"
    group = example["Resources"][function["LoggingConfig"]["LogGroup"]["Ref"]]
    assert group["Properties"]["RetentionInDays"] == 30


def test_one_customer_cannot_take_the_whole_apis_rate_and_nobody_signs_up_in_bulk() -> None:
    acl = resource("CustomerRateLimit")
    assert acl["Condition"] == "LimitsCustomers"
    assert template()["Conditions"]["LimitsCustomers"]["And"][0] == {"Condition": "IsAws"}
    [rule] = acl["Properties"]["Rules"]
    limit = rule["Statement"]["RateBasedStatement"]
    assert limit["AggregateKeyType"] == "CUSTOM_KEYS"
    assert limit["CustomKeys"] == [
        {"Header": {"Name": "authorization", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}
    ]
    assert limit["Limit"] == {"Ref": "CustomerRequestLimit"}
    assert rule["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}
    association = resource("CustomerRateLimitAssociation")
    assert association["Properties"]["WebACLArn"] == {"GetAtt": "CustomerRateLimit.Arn"}
    assert "/restapis/${ShopApi}/stages/v1" in association["Properties"]["ResourceArn"]["Sub"]
    signing_up = resource("UserPool")["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"]
    assert signing_up == {"If": ["CustomersSignUp", False, True]}
    assert template()["Parameters"]["CustomerSelfSignUp"]["Default"] == "false"


def test_the_schedulers_quota_has_an_alarm_on_the_metric_the_scheduler_counts() -> None:
    alarm = resource("DeadlineSchedulesRefusedAlarm")["Properties"]
    assert alarm["MetricName"] == "DeadlineSchedulesRefused" and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "order"}]


def test_named_accounts_may_manage_only_the_rules_they_created_on_the_bus() -> None:
    statements = resource("EventBus")["Properties"]["Policy"]["Statement"]
    [admit] = [s["If"] for s in statements if "If" in s]
    condition, statement, otherwise = admit
    assert condition == "AdmitsConsumerAccounts" and otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": {"Ref": "ConsumerAccounts"}}
    # Rule management only: no PutEvents (an outside account never speaks for a service), no other bus.
    assert set(statement["Action"]) == {
        f"events:{verb}"
        for verb in ("PutRule", "PutTargets", "DeleteRule", "RemoveTargets", "DisableRule", "EnableRule",
                     "DescribeRule", "ListTargetsByRule", "TagResource", "UntagResource", "ListTagsForResource")
    }  # fmt: skip
    assert statement["Resource"]["Sub"].endswith(":rule/${AWS::StackName}-bus/*")
    assert statement["Condition"] == {"StringEqualsIfExists": {"events:creatorAccount": "${aws:PrincipalAccount}"}}
    assert template()["Parameters"]["ConsumerAccounts"]["Default"] == ""
    assert template()["Conditions"]["AdmitsConsumerAccounts"] == {
        "Not": [{"Equals": [{"Join": ["", {"Ref": "ConsumerAccounts"}]}, ""]}]
    }


def test_another_accounts_bus_gets_every_shop_event_through_a_role_that_may_put_only_there() -> None:
    forward = resource("ForwardToAnotherBus")
    assert forward["Condition"] == "ForwardsToAnotherBus"
    assert forward["Properties"]["Parameters"] == {
        "EventBusName": {"Ref": "EventBus"},
        "TargetEventBusArn": {"Ref": "ForwardToEventBusArn"},
        "AlarmTopicArn": {"Ref": "AlarmTopic"},
    }
    block = forward_block()["Resources"]
    rule = block["Rule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBusName"}
    assert rule["EventPattern"] == {"source": [{"prefix": "shop."}]}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Ref": "TargetEventBusArn"}
    assert target["DeadLetterConfig"] == {"Arn": {"GetAtt": "DeadLetterQueue.Arn"}}
    role = block["Role"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    [policy] = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Ref": "TargetEventBusArn"}}
    ]
    [dead_letters] = block["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert dead_letters["Condition"] == {"ArnEquals": {"aws:SourceArn": {"GetAtt": "Rule.Arn"}}}
    alarm = block["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"GetAtt": "DeadLetterQueue.QueueName"}}]
    assert alarm["AlarmActions"] == {"If": ["NotifiesTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    # The dead letters are events for another account's bus, not messages of a queue of ours that `make
    # redrive` could move back: an output of their own.
    output = template()["Outputs"]["ForwardDeadLetterQueueUrl"]
    assert output == output | {"Condition": "ForwardsToAnotherBus"}
    assert output["Value"] == {"GetAtt": "ForwardToAnotherBus.Outputs.DeadLetterQueueUrl"}


def test_the_customers_pool_outlives_the_stack_since_orders_are_keyed_by_its_users() -> None:
    pool = resource("UserPool")
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == {"If": ["IsAws", "ACTIVE", "INACTIVE"]}


def test_every_api_request_is_logged_on_aws_with_who_asked_and_what_it_was_answered() -> None:
    setting = resource("ShopApi")["Properties"]["AccessLogSetting"]["If"]
    assert setting[0] == "IsAws" and setting[2] == {"Ref": "AWS::NoValue"}
    assert setting[1]["DestinationArn"] == {"GetAtt": "ApiAccessLogGroup.Arn"}
    line = json.loads(setting[1]["Format"])
    assert {"requestId", "customer", "caller", "route", "status", "latencyMs", "waf"} <= set(line)
    assert resource("ApiAccessLogGroup")["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert resource("ApiAccessLogGroup")["DependsOn"] == "ApiGatewayAccount"
    role = resource("ApiGatewayAccountLogsRole")["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]


def test_every_service_function_ships_its_package_compiled() -> None:
    # Where a function runs its package is read-only: a package without bytecode is compiled again by every
    # cold start (the layers are built compiled for the same reason).
    for name, function in FUNCTIONS.items():
        if str(function["Properties"]["CodeUri"]).startswith("services/"):
            assert function.get("Metadata", {}).get("BuildMethod") == "makefile", name
            assert function["Metadata"].get("ContextPath") == "services", name


def test_the_services_makefile_builds_a_package_compiled_and_nothing_else(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    # As SAM runs it: in a copy of the function's CodeUri, the Makefile named from ContextPath.
    source = tmp_path / "payment"
    shutil.copytree(root / "services" / "payment", source, ignore=shutil.ignore_patterns("__pycache__"))
    artifacts = tmp_path / "artifacts"
    subprocess.run(
        ["make", "--makefile", str(root / "services" / "Makefile"), "build-PaymentOnOrderCreatedFunction"],
        cwd=source,
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "PYTHON": sys.executable},
        check=True,
        capture_output=True,
    )
    assert sorted(entry.name for entry in artifacts.iterdir()) == ["payment"]  # the package, not the README
    modules = sorted(artifacts.rglob("*.py"))
    assert len(modules) == len(list((root / "services" / "payment").rglob("*.py")))
    for module in modules:
        compiled = Path(importlib.util.cache_from_source(str(module)))
        # PEP 552 flags: 0b01 is hash-based and unchecked, so the runtime never reads the source to validate it.
        assert int.from_bytes(compiled.read_bytes()[4:8], "little") == 0b01, module

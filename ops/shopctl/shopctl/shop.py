"""The deployed shop shopctl talks to: which cloud, which stack, and the reads and writes operators need.

The local cloud by default (http://127.0.0.1:4566, stack shop-saga, test credentials); AWS with
`--profile`/`--region` (and `--stack`). Every operation reads the stack's own outputs and resources, so the
same commands work on both.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from shop_contracts.saga import ATTENTION_AT_ATTRIBUTE, ATTENTION_ATTRIBUTE, ATTENTION_INDEX, TERMINAL_SAGA_STATUSES
from shopctl.redrive import DLQ_SUFFIX, Redrive, RedriveReport, redrive, redrives_of_stack
from shopctl.stack import ApiClient, api_base_url, customer_token, stack_outputs, stack_queues

LOCAL_ENDPOINT = "http://127.0.0.1:4566"


def use_cloud(*, profile: str | None, region: str | None, endpoint: str | None) -> str:
    """Point this process's AWS clients at a cloud; returns a line saying which."""
    if profile or region:
        boto3.setup_default_session(profile_name=profile, region_name=region)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        return f"AWS ({profile or 'default profile'}, {boto3.session.Session().region_name})"
    os.environ["AWS_ENDPOINT_URL"] = endpoint or os.environ.get("AWS_ENDPOINT_URL") or LOCAL_ENDPOINT
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return f"the local cloud at {os.environ['AWS_ENDPOINT_URL']}"


@dataclass(frozen=True)
class Message:
    """One message of a dead-letter queue, as an operator reads it."""

    message_id: str
    sent_at: datetime
    reason: str
    detail_type: str
    order_id: str
    body: str


@dataclass
class Shop:
    """One deployed stack."""

    stack: str

    @cached_property
    def outputs(self) -> dict[str, str]:
        return stack_outputs(self.stack)

    @cached_property
    def api(self) -> ApiClient:
        return ApiClient(api_base_url(self.outputs))

    def customer(self, email: str, password: str) -> ApiClient:
        """The API as a customer of the stack's user pool (created if need be; needs admin rights)."""
        return self.api.as_customer(customer_token(self.outputs, email, password))

    def logs(self, function: str, since: timedelta, contains: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        """A function's structured log lines since a moment ago, oldest first, and the log group they are in.

        The functions of a service share its log group; each line names its function (`function_name`), which
        CloudWatch filters on (the local cloud does not: the lines are also filtered here).
        """
        resource = boto3.client("cloudformation").describe_stack_resource(
            StackName=self.stack, LogicalResourceId=function
        )
        name = resource["StackResourceDetail"]["PhysicalResourceId"]
        configuration = boto3.client("lambda").get_function_configuration(FunctionName=name)
        group = (configuration.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
        start = int((datetime.now(UTC) - since).timestamp() * 1000)
        pattern = f'{{ $.function_name = "{name}" }}'
        lines = []
        for page in (
            boto3.client("logs")
            .get_paginator("filter_log_events")
            .paginate(logGroupName=group, startTime=start, filterPattern=pattern)
        ):
            for event in page["events"]:
                try:
                    line = json.loads(event["message"])
                except json.JSONDecodeError:
                    continue  # START/END/REPORT lines: they do not say whose they are
                if not isinstance(line, dict) or line.get("function_name") != name:
                    continue
                if contains and contains not in event["message"]:
                    continue
                lines.append(line)
        return group, lines

    def _table(self, output: str) -> Any:
        return boto3.resource("dynamodb").Table(self.outputs[output])

    # -- orders and sagas ------------------------------------------------------------------------

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order as its service stores it."""
        item = self._table("OrderTableName").get_item(Key={"pk": f"ORDER#{order_id}"}, ConsistentRead=True)
        found: dict[str, Any] | None = item.get("Item")
        return found

    def saga(self, order_id: str) -> dict[str, Any] | None:
        """The projector's view of the order's saga."""
        item = self._table("SagaTableName").get_item(Key={"pk": f"SAGA#{order_id}"}, ConsistentRead=True)
        found = item.get("Item")
        return found.get("view") if found else None

    def settled(self, order_id: str) -> bool:
        order, saga = self.order(order_id), self.saga(order_id)
        return bool(order and order.get("status") != "PENDING" and saga and saga["status"] in TERMINAL_SAGA_STATUSES)

    def needing_attention(self, state: str, before: datetime, limit: int) -> list[dict[str, Any]]:
        """Sagas of the sparse index in `state` since before `before`, stalest first."""
        table = self._table("SagaTableName")
        answer = table.query(
            IndexName=ATTENTION_INDEX,
            KeyConditionExpression=Key(ATTENTION_ATTRIBUTE).eq(state)
            & Key(ATTENTION_AT_ATTRIBUTE).lt(before.isoformat()),
            Limit=limit,
        )
        found = []
        # The index holds keys only (it is rewritten only when a saga enters or leaves it): each view is
        # read from the saga's item, and one that left the index meanwhile is not listed.
        for entry in answer["Items"]:
            item = table.get_item(Key={"pk": entry["pk"]}, ConsistentRead=True).get("Item")
            if item is None or item.get(ATTENTION_ATTRIBUTE) != state:
                continue
            found.append(
                {
                    "orderId": str(entry["pk"]).removeprefix("SAGA#"),
                    "since": entry[ATTENTION_AT_ATTRIBUTE],
                    "status": item["view"]["status"],
                    "failureReason": item["view"].get("failureReason"),
                }
            )
        return found

    def stuck(self, slack: timedelta, limit: int) -> list[dict[str, Any]]:
        """Open sagas more than `slack` past their deadline."""
        return self.needing_attention("OPEN", datetime.now(UTC) - slack, limit)

    def failed(self, limit: int) -> list[dict[str, Any]]:
        """Sagas whose compensation failed, longest-failed first."""
        return self.needing_attention("FAILED", datetime.now(UTC) + timedelta(days=1), limit)

    # -- dead letters and the outbox ---------------------------------------------------------------

    @cached_property
    def dead_letters(self) -> list[Redrive]:
        return redrives_of_stack(self.stack)

    def dead_letter(self, consumer: str) -> Redrive:
        for target in self.dead_letters:
            if target.consumer == consumer:
                return target
        known = ", ".join(t.consumer for t in self.dead_letters)
        raise LookupError(f"no consumer {consumer!r} in stack {self.stack}; its consumers: {known}")

    def all_dead_letters(self) -> dict[str, str]:
        """Every dead-letter queue of the stack by owner (consumers, and the relays' own), as URL."""
        found = {t.consumer: t.dead_letter_queue_url for t in self.dead_letters}
        for name, url in stack_queues(self.stack).items():
            if name.endswith(DLQ_SUFFIX) and url not in found.values():
                found[name.removesuffix(DLQ_SUFFIX)] = url
        return dict(sorted(found.items()))

    @staticmethod
    def depth(queue_url: str) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    @staticmethod
    def peek(queue_url: str, limit: int) -> list[Message]:
        """Up to `limit` messages, left in the queue and visible again at once."""
        sqs = boto3.client("sqs")
        found: dict[str, Message] = {}
        handles: list[str] = []
        for _ in range(max(1, limit // 10 + 2)):
            batch = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                MessageAttributeNames=["All"],
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            handles += [raw["ReceiptHandle"] for raw in batch]
            fresh = [raw for raw in batch if raw["MessageId"] not in found]
            for raw in fresh:
                found[raw["MessageId"]] = _message(raw)
            if not fresh or len(found) >= limit:
                break
        for handle in handles:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
        return list(found.values())[:limit]

    @staticmethod
    def redrive(target: Redrive, *, since: datetime | None, until: datetime | None, dry_run: bool) -> RedriveReport:
        """Move the DLQ's messages sent within [since, until) back to the consumer's queue; what it did."""
        return redrive(boto3.client("sqs"), target, since=since, until=until, dry_run=dry_run)

    def relays(self) -> dict[str, str]:
        """Each service's outbox relay function: service -> function name."""
        found = {}
        paginator = boto3.client("cloudformation").get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=self.stack):
            for summary in page["StackResourceSummaries"]:
                name = summary["LogicalResourceId"]
                if summary["ResourceType"] == "AWS::Lambda::Function" and name.endswith("OutboxRelayFunction"):
                    found[name.removesuffix("OutboxRelayFunction").lower()] = summary["PhysicalResourceId"]
        return dict(sorted(found.items()))

    def republish(self, older_than: int) -> dict[str, int]:
        """Run every relay's sweeper now over rows older than `older_than` seconds; published per service."""
        published = {}
        for service, function in self.relays().items():
            answer = boto3.client("lambda").invoke(
                FunctionName=function, Payload=json.dumps({"olderThan": older_than}).encode()
            )
            published[service] = int(json.loads(answer["Payload"].read()).get("published", 0))
        return published


def _message(raw: Any) -> Message:
    attributes = raw.get("MessageAttributes") or {}
    reason = attributes.get("FailureReason", {}).get("StringValue") or "(none: it failed every delivery; see the logs)"
    try:
        body = json.loads(raw["Body"])
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    data = detail.get("data", {}) if isinstance(detail, dict) else {}
    sent = int(raw.get("Attributes", {}).get("SentTimestamp", time.time() * 1000))
    return Message(
        message_id=raw["MessageId"],
        sent_at=datetime.fromtimestamp(sent / 1000, UTC),
        reason=reason,
        detail_type=str(body.get("detail-type", "?")) if isinstance(body, dict) else "?",
        order_id=str(data.get("orderId", "?")) if isinstance(data, dict) else "?",
        body=raw["Body"],
    )


class BusTail:
    """A temporary subscriber to the bus (own rule, own queue with a policy for that rule alone), removed
    when closed: what `shopctl bus tail` prints."""

    def __init__(self, bus_name: str, detail_types: list[str]) -> None:
        self._events, self._sqs = boto3.client("events"), boto3.client("sqs")
        self.bus_name = bus_name
        self.name = f"shopctl-tail-{os.getpid()}-{int(time.time())}"
        self.queue_url = self._sqs.create_queue(QueueName=self.name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        pattern: dict[str, Any] = {"source": [{"prefix": "shop."}]}
        if detail_types:
            pattern["detail-type"] = detail_types
        rule_arn = self._events.put_rule(Name=self.name, EventBusName=bus_name, EventPattern=json.dumps(pattern))[
            "RuleArn"
        ]
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ]
        }
        self._sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": json.dumps(policy)})
        self._events.put_targets(
            Rule=self.name, EventBusName=bus_name, Targets=[{"Id": "shopctl-tail", "Arn": queue_arn}]
        )

    def events(self, wait_seconds: int = 1) -> Iterator[dict[str, Any]]:
        """What reached the tail since the last call."""
        batch = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
        for message in batch.get("Messages", []):
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            yield json.loads(message["Body"])

    def close(self) -> None:
        """Remove the rule and the queue."""
        self._events.remove_targets(Rule=self.name, EventBusName=self.bus_name, Ids=["shopctl-tail"])
        self._events.delete_rule(Name=self.name, EventBusName=self.bus_name)
        self._sqs.delete_queue(QueueUrl=self.queue_url)

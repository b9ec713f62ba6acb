"""boto3 clients and resources, created once per execution environment and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_sqs import SQSClient


@cache
def dynamodb() -> DynamoDBServiceResource:
    """The DynamoDB resource; its client accepts plain Python values in transactions too."""
    return boto3.resource("dynamodb")


@cache
def events() -> EventBridgeClient:
    """The EventBridge client."""
    return boto3.client("events")


@cache
def kms() -> KMSClient:
    """The KMS client."""
    return boto3.client("kms")


@cache
def sqs() -> SQSClient:
    """The SQS client."""
    return boto3.client("sqs")


@cache
def scheduler() -> Any:
    """The EventBridge Scheduler client."""
    return boto3.client("scheduler")

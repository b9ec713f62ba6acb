"""boto3 clients and resources, created once per execution environment and reused across invocations
(`shared.environment.once`).

Each waits at most CONNECT_TIMEOUT to connect and READ_TIMEOUT for an answer, well inside the functions' 10 s,
so a stalled call fails and is retried (or its message redelivered) rather than timing the function out with
no word; retries use boto3's standard mode (backoff with jitter, throttling and transient errors only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from shared.environment import once

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_sqs import SQSClient

CONNECT_TIMEOUT = 2
READ_TIMEOUT = 4
CONFIG = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, retries={"mode": "standard"})


@once
def dynamodb() -> DynamoDBServiceResource:
    """The DynamoDB resource; its client accepts plain Python values in transactions too."""
    return boto3.resource("dynamodb", config=CONFIG)


@once
def events() -> EventBridgeClient:
    """The EventBridge client."""
    return boto3.client("events", config=CONFIG)


@once
def kms() -> KMSClient:
    """The KMS client."""
    return boto3.client("kms", config=CONFIG)


@once
def sqs() -> SQSClient:
    """The SQS client."""
    return boto3.client("sqs", config=CONFIG)


@once
def scheduler() -> Any:
    """The EventBridge Scheduler client."""
    return boto3.client("scheduler", config=CONFIG)

"""AWS clients, created once per execution environment and reused across invocations
(`shared.environment.once`).

botocore's clients, not boto3's: boto3 adds its resource layer (which this project does not use: the
DynamoDB adapter writes DynamoDB's typed form itself, `shared.storage.attribute_values`) and imports
s3transfer, concurrent.futures and multiprocessing with it, in every function's cold start.

Each waits at most CONNECT_TIMEOUT to connect and READ_TIMEOUT for an answer, well inside the functions' 10 s,
so a stalled call fails and is retried (or its message redelivered) rather than timing the function out with
no word; retries use botocore's standard mode (backoff with jitter, throttling and transient errors only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import botocore.session
from botocore.config import Config

from shared.environment import once

if TYPE_CHECKING:
    from botocore.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_sqs import SQSClient

CONNECT_TIMEOUT = 2
READ_TIMEOUT = 4
CONFIG = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, retries={"mode": "standard"})


@once
def session() -> Session:
    """The one botocore session (credentials, region and endpoint from the environment, as boto3's)."""
    return botocore.session.get_session()


@once
def dynamodb() -> DynamoDBClient:
    """The DynamoDB client (values in DynamoDB's typed form: `shared.storage.attribute_values`)."""
    return cast("DynamoDBClient", session().create_client("dynamodb", config=CONFIG))


@once
def events() -> EventBridgeClient:
    """The EventBridge client."""
    return cast("EventBridgeClient", session().create_client("events", config=CONFIG))


@once
def kms() -> KMSClient:
    """The KMS client."""
    return cast("KMSClient", session().create_client("kms", config=CONFIG))


@once
def sqs() -> SQSClient:
    """The SQS client."""
    return cast("SQSClient", session().create_client("sqs", config=CONFIG))


@once
def scheduler() -> Any:
    """The EventBridge Scheduler client."""
    return session().create_client("scheduler", config=CONFIG)

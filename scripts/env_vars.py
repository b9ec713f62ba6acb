"""Write the environment of every function of a deployed stack as a `sam local invoke --env-vars` file, so a
sample event can be invoked locally against that stack's tables, queues and bus.

    python -m scripts.env_vars --stack shop-saga > env.json        (make env-vars writes .aws-sam/env.json)
    sam local invoke PaymentOnOrderCreatedFunction -e events/sqs/OrderCreated.json --env-vars .aws-sam/env.json

Read from the deployed functions themselves, so every name is the stack's real one.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3


def env_vars(stack: str, cloudformation: Any = None, lambda_client: Any = None) -> dict[str, dict[str, str]]:
    """Function logical id -> its environment variables, as deployed."""
    cloudformation = cloudformation or boto3.client("cloudformation")
    lambda_client = lambda_client or boto3.client("lambda")
    found: dict[str, dict[str, str]] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for summary in page["StackResourceSummaries"]:
            if summary["ResourceType"] == "AWS::Lambda::Function":
                configuration = lambda_client.get_function_configuration(FunctionName=summary["PhysicalResourceId"])
                found[summary["LogicalResourceId"]] = dict(configuration.get("Environment", {}).get("Variables", {}))
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    args = parser.parse_args(argv)
    print(json.dumps(env_vars(args.stack), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write the environment of every function of a deployed stack as a `sam local invoke --env-vars` file, so a
sample event can be invoked locally against that stack's tables, queues and bus.

    python -m tools.dev.env_vars --stack shop-saga --endpoint http://host.docker.internal:4566 > env.json
    (make env-vars writes .aws-sam/env.json; make local-invoke runs every sample with it)

Read from the deployed functions themselves, so every name is the stack's real one. `--endpoint` is where a
function in a container reaches the local cloud: it becomes each function's AWS_ENDPOINT_URL (the template
declares that variable, empty, because SAM sets only variables the template declares).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3


def env_vars(
    stack: str, cloudformation: Any = None, lambda_client: Any = None, *, endpoint: str | None = None
) -> dict[str, dict[str, str]]:
    """Function logical id -> its environment variables, as deployed (and the endpoint to call, if given)."""
    cloudformation = cloudformation or boto3.client("cloudformation")
    lambda_client = lambda_client or boto3.client("lambda")
    found: dict[str, dict[str, str]] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for summary in page["StackResourceSummaries"]:
            if summary["ResourceType"] == "AWS::Lambda::Function":
                configuration = lambda_client.get_function_configuration(FunctionName=summary["PhysicalResourceId"])
                variables = dict(configuration.get("Environment", {}).get("Variables", {}))
                if endpoint:
                    variables["AWS_ENDPOINT_URL"] = endpoint
                found[summary["LogicalResourceId"]] = variables
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    parser.add_argument("--endpoint", help="the local cloud as a container reaches it (AWS_ENDPOINT_URL)")
    args = parser.parse_args(argv)
    print(json.dumps(env_vars(args.stack, endpoint=args.endpoint), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

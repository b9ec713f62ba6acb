"""Write the OpenAPI document of the shop's REST API, generated from the routes and their pydantic models.

    python -m tools.codegen.openapi          # rewrite docs/openapi.json
    python -m tools.codegen.openapi --check  # exit 1 if docs/openapi.json differs from what the code gives

The order API and the catalogue API are two Lambda functions behind one REST API; their documents are
merged into one. Clients, tools and the fuzzer (`make fuzz`) read it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
TITLE = "shop-saga"
VERSION = "1.0.0"
SECURITY_SCHEMES: dict[str, Any] = {
    "customer": HTTPBearer(
        bearerFormat="JWT",
        description="The ID token of a customer of the stack's user pool (stack outputs UserPoolId, UserPoolClientId).",
    ),
    "operator": APIKey.model_validate(
        {
            "name": "Authorization",
            "in": APIKeyIn.header,
            "description": "An AWS SigV4 signature (service execute-api) by a principal with OperatorPolicy.",
        }
    ),
}


def render() -> str:
    """The document, as text."""
    from inventory.handlers.api import app as catalogue
    from order.handlers.api import app as orders

    merged: dict[str, Any] = {}
    for app in (orders, catalogue):
        document = json.loads(
            app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)
        )
        if not merged:
            merged = document
            continue
        merged["paths"].update(document["paths"])
        merged["components"]["schemas"].update(document["components"]["schemas"])
    # Bad input is a 400 problem document here, never Powertools' default 422: drop what documents that.
    for operations in merged["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        merged["components"]["schemas"].pop(unused, None)
    merged["info"]["description"] = (
        "A choreographed order saga on Amazon EventBridge. Customers sign in with Cognito and send their ID "
        "token; product writes are IAM-signed; errors are application/problem+json."
    )
    return json.dumps(merged, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    stale = not DOCUMENT.exists() or DOCUMENT.read_text() != text
    if args.check:
        if stale:
            print("stale: docs/openapi.json (run python -m tools.codegen.openapi)")
        return 1 if stale else 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(DOCUMENT.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Print where the deployed stack answers, and ready-to-paste commands to try against it: a demo
customer's calls with its token, and the operator's calls signed with SigV4.

python -m tools.dev.stackinfo --stack shop-saga --port 4566      (the end of `make up`)
"""

from __future__ import annotations

import argparse
import json
import sys

from shopctl.stack import api_base_url, customer_token, stack_outputs
from tools.dev.demo import DEMO_CUSTOMER, DEMO_PASSWORD

SAMPLE_ORDER = {
    "items": [{"productId": "PROD-001", "quantity": 1}],
    "totalAmount": "1299.99",
    "payment": {"token": "tok_ok"},
}
RESTOCK = {"quantity": 5}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)
    outputs = stack_outputs(args.stack)
    api = api_base_url(outputs)
    token = customer_token(outputs, DEMO_CUSTOMER, DEMO_PASSWORD)
    order = json.dumps(SAMPLE_ORDER, separators=(",", ":"))
    print(f"""
Stack {args.stack} is up on the local cloud (http://127.0.0.1:{args.port}).
  API:        {api}
  Event bus:  {outputs["EventBusName"]}
  Customers:  user pool {outputs["UserPoolId"]}, client {outputs["UserPoolClientId"]}

As the demo customer ({DEMO_CUSTOMER}; its ID token is valid for an hour, `make up` prints a new one):
  TOKEN='{token}'
  curl -s -X POST {api}/orders -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{order}'
  curl -s {api}/orders/<orderId> -H "Authorization: Bearer $TOKEN"
  curl -s -X POST {api}/orders/<orderId>/cancel -H "Authorization: Bearer $TOKEN"

The catalogue, public:
  curl -si {api}/products/PROD-001

As an operator (SigV4-signed; the local cloud's test key pair is its account's administrator):
  curl -s --aws-sigv4 'aws:amz:us-east-1:execute-api' --user test:test -X POST {api}/products/PROD-001/restock \\
       -H 'Content-Type: application/json' -d '{json.dumps(RESTOCK)}'
  curl -s --aws-sigv4 'aws:amz:us-east-1:execute-api' --user test:test -X PUT {api}/products/PROD-001 \\
       -H 'Content-Type: application/json' -H 'If-Match: "<ETag from the GET>"' \\
       -d '{{"name":"Premium Laptop","price":"1299.99","available":50}}'

Stop it with: make down PORT={args.port}
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())

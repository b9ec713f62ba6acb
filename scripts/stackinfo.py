"""Print where the deployed stack answers and a few commands to try against it.

python -m scripts.stackinfo --stack shop-saga --port 4566      (the end of `make up`)
"""

from __future__ import annotations

import argparse
import json
import sys

from scripts.stack import api_base_url, stack_outputs

SAMPLE_ORDER = {
    "customerId": "c-1",
    "items": [{"productId": "PROD-001", "quantity": 1}],
    "totalAmount": "1299.99",
    "payment": {"token": "tok_ok"},
}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)
    outputs = stack_outputs(args.stack)
    api = api_base_url(outputs)
    print(f"""
Stack {args.stack} is up on the local cloud (http://127.0.0.1:{args.port}).
  API:        {api}
  Event bus:  {outputs["EventBusName"]}

Try:
  curl -s {api}/products/PROD-001
  curl -s -X POST {api}/orders -H 'Content-Type: application/json' \\
       -d '{json.dumps(SAMPLE_ORDER, separators=(",", ":"))}'
  curl -s {api}/orders/<orderId>
  curl -s -X POST {api}/orders/<orderId>/cancel

Stop it with: make down PORT={args.port}
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())

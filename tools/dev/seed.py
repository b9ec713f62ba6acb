"""Load the sample catalogue into the deployed stack through `PUT /products/{productId}`, and the order the
samples in events/ name.

    python -m tools.dev.seed --stack shop-saga      (make seed)

Each run sets every sample product's stock back to its starting level, then waits until the order
service's copy of the catalogue has every price (orders are priced from it). Product writes are operator
routes: the requests are SigV4-signed with this process's AWS credentials.

The sample order (tools/codegen/sample_events.py: its id, customer, lines and sealed-token placeholder) cannot be
placed through the API, which gives every order a new id; it is written once as the order API writes an order
(the order and its OrderCreated, in one transaction through the order service's unit of work), and its saga
runs on the stack like any other: the placeholder token cannot be opened, so the payment is declined and the
order ends CANCELLED (payment_declined). Every sample in events/ then names an order and products that exist
(events/README.md says what each returns).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

import boto3

from order.dal.order_repository import OrderUnitOfWork
from order.models.order import Order, OrderStatus
from shared.storage.dynamodb import DynamoTable
from shop_contracts.order import OrderCreated
from shopctl.stack import ApiClient, api_base_url, stack_outputs, wait_until_priced
from tools.codegen.sample_events import ORDER_ID, SAMPLES

SAMPLE_PRODUCTS: list[dict[str, object]] = [
    {"productId": "PROD-001", "name": "Premium Laptop", "price": "1299.99", "available": 50},
    {"productId": "PROD-002", "name": "Wireless Headphones", "price": "199.99", "available": 100},
    {"productId": "PROD-003", "name": "Smartphone", "price": "799.99", "available": 25},
    {"productId": "PROD-004", "name": "4K Monitor", "price": "449.00", "available": 30},
    {"productId": "PROD-005", "name": "Mechanical Keyboard", "price": "129.50", "available": 80},
    {"productId": "PROD-006", "name": "Ergonomic Mouse", "price": "59.90", "available": 120},
    {"productId": "PROD-007", "name": "USB-C Dock", "price": "189.00", "available": 40},
    {"productId": "PROD-008", "name": "Webcam HD", "price": "89.99", "available": 60},
    {"productId": "PROD-009", "name": "Portable SSD 1TB", "price": "149.00", "available": 70},
    {"productId": "PROD-010", "name": "Limited Edition Console", "price": "599.00", "available": 2},
]


def seed(api: ApiClient) -> list[dict[str, object]]:
    """Create or restock every sample product; returns what the API answered."""
    api = api.as_operator()
    saved = []
    for product in SAMPLE_PRODUCTS:
        body = {key: value for key, value in product.items() if key != "productId"}
        path = f"/products/{product['productId']}"
        # Setting an existing product's stock needs the version read (If-Match), as for any operator.
        read = api.call("GET", path)
        headers = {"If-Match": read.headers["ETag"]} if read.status == 200 else {}
        result = api.call("PUT", path, body, headers=headers)
        if result.status != 200:
            raise RuntimeError(f"PUT /products/{product['productId']} answered {result.status}: {result.body}")
        saved.append(result.body)
    return saved


def place_sample_order(order_table_name: str, *, timeout: float = 60) -> Order:
    """The order the samples name, placed unless it exists; returns it once its saga has ended."""
    uow = OrderUnitOfWork(DynamoTable(boto3.client("dynamodb"), order_table_name))
    if uow.orders.get(ORDER_ID) is None:
        [sample] = [event for _, event, _ in SAMPLES if isinstance(event, OrderCreated)]
        # A deadline ahead, as the API gives one: the sample's own lies in the past.
        data = sample.model_copy(update={"deadline": datetime.now(UTC) + timedelta(minutes=5)})
        with uow.starting(ORDER_ID) as step:
            step.orders.add(Order.placed(step.emit(data)))
    deadline = time.monotonic() + timeout
    while (order := uow.orders.get(ORDER_ID)) is None or order.status is OrderStatus.PENDING:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sample order {ORDER_ID} is still PENDING after {timeout:.0f}s")
        time.sleep(0.5)
    return order


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="shop-saga")
    args = parser.parse_args(argv)
    api = ApiClient(api_base_url(stack_outputs(args.stack)))
    products = seed(api)
    waited = wait_until_priced(args.stack, {str(p["productId"]): str(p["price"]) for p in products})
    print(
        f"seeded {len(products)} products ({', '.join(str(p['productId']) for p in products)}); "
        f"the order service's catalogue had every price after {waited:.1f}s"
    )
    order = place_sample_order(stack_outputs(args.stack)["OrderTableName"])
    reason = f" ({order.cancellation_reason})" if order.cancellation_reason else ""
    print(f"the order the samples in events/ name, {order.order_id}: {order.status}{reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The product REST API: GET and PUT /products/{productId} (PUT creates or restocks; an operator route).

Triggered by API Gateway (REST, proxy integration); emits nothing. Sample requests: events/api/.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import StringConstraints, TypeAdapter, ValidationError

from inventory.handlers.wiring import unit_of_work
from inventory.models.stock import Product, ProductUpdate
from shared.http import RequestRejected, json_response, parse_body, rest_resolver
from shared.observability import logger

app = rest_resolver()
_product_id = TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")])


def _valid_product_id(product_id: str) -> str:
    try:
        return _product_id.validate_python(product_id)
    except ValidationError as exc:
        message = "must be 1 to 64 letters, digits, '-' or '_'"
        raise RequestRejected(
            400, "Bad Request", f"productId {message}", [{"field": "productId", "message": message}]
        ) from exc


@app.get("/products/<product_id>")
def get_product(product_id: str) -> Response[str]:
    product = unit_of_work().products.get(_valid_product_id(product_id))
    if product is None:
        raise RequestRejected(404, "Not Found", f"product {product_id} does not exist")
    return json_response(200, product.to_wire())


@app.put("/products/<product_id>")
def put_product(product_id: str) -> Response[str]:
    product_id = _valid_product_id(product_id)
    update = parse_body(app, ProductUpdate)
    product = Product(product_id=product_id, name=update.name, price=update.price, available=update.available)
    uow = unit_of_work()
    with uow.starting(product_id) as step:
        step.products.save(product)
    logger.info("product saved", product_id=product_id, available=product.available)
    return json_response(200, product.to_wire())


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway proxy event in, proxy response out."""
    return app.resolve(event, context)

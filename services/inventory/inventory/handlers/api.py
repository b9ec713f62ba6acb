"""The catalogue REST API: GET /products/{productId} (public); PUT /products/{productId} and
POST /products/{productId}/restock (operators, IAM-signed); a PUT emits ProductPriced.

Triggered by API Gateway (REST, proxy integration). `GET` answers with the product's ETag; a `PUT` with
`If-Match` changes the product only if it is still that version (412 otherwise), so an operator never
overwrites stock reserved since their read, and one that changes an existing product's stock without it is
refused (428); a restock adds units atomically. Every PUT announces the product's price (ProductPriced).
Requests are validated against the models, which also make the OpenAPI document. Sample requests: events/api/.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.handlers.wiring import wiring
from inventory.logic.manage_products import restock, set_product
from inventory.models.errors import PreconditionRequired, ProductNotFound, StockLimit, VersionMismatch
from inventory.models.stock import PRODUCT_ID_PATTERN, Product, ProductShown, ProductUpdate, Restock
from shared.errors import StockChangedConcurrently
from shared.http import OPERATOR, RequestRejected, json_response, problem_response, responses, rest_resolver, serve
from shared.observability import logger, tracer

app = rest_resolver()
ProductIdParam = Annotated[
    str, Path(alias="productId", pattern=PRODUCT_ID_PATTERN, description="letters, digits, '.', '_' or '-'")
]
ETAG = {"ETag": "the product's version; send it back as If-Match"}


@app.exception_handler(ProductNotFound)
def _not_found(error: ProductNotFound) -> Response[str]:
    return problem_response(RequestRejected(404, "Not Found", str(error)))


@app.exception_handler(VersionMismatch)
def _stale(error: VersionMismatch) -> Response[str]:
    return problem_response(RequestRejected(412, "Precondition Failed", f"{error}: read it again"))


@app.exception_handler(PreconditionRequired)
def _blind(error: PreconditionRequired) -> Response[str]:
    return problem_response(RequestRejected(428, "Precondition Required", str(error)))


@app.exception_handler(StockLimit)
def _too_much(error: StockLimit) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", str(error)))


@app.exception_handler(StockChangedConcurrently)
def _raced(error: StockChangedConcurrently) -> Response[str]:
    return problem_response(RequestRejected(409, "Conflict", f"{error}; send the request again"))


def _shown(product: Product, status: int = 200) -> Response[str]:
    return json_response(status, product.shown().to_wire(), {"ETag": product.etag})


@app.get(
    "/products/<productId>",
    summary="A product of the catalogue",
    responses=responses(200, "the product", ProductShown, 400, 404, 500, headers=ETAG),
)
def get_product(product_id: ProductIdParam) -> Response[str]:
    product = wiring.unit_of_work.products.get(product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return _shown(product)


@app.put(
    "/products/<productId>",
    summary="Create a product, or set its name, price and stock (operators)",
    security=OPERATOR,
    responses=responses(
        200, "the product as set", ProductShown, 400, 403, 404, 409, 412, 413, 415, 428, 500, headers=ETAG
    ),
)
def put_product(
    product_id: ProductIdParam,
    product: ProductUpdate,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=64,
            description="the ETag you read; 412 if the product changed since; needed (428) to change the stock",
        ),
    ] = None,
) -> Response[str]:
    return _shown(set_product(product_id, product, if_match=if_match, uow=wiring.unit_of_work))


@app.post(
    "/products/<productId>/restock",
    summary="Add units to a product's stock, atomically (operators)",
    security=OPERATOR,
    responses=responses(
        200, "the product after the restock", ProductShown, 400, 403, 404, 409, 413, 415, 500, headers=ETAG
    ),
)
def restock_product(product_id: ProductIdParam, units: Restock) -> Response[str]:
    return _shown(restock(product_id, units.quantity, uow=wiring.unit_of_work))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway proxy event in, proxy response out."""
    return serve(app, event, context)

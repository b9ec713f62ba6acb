"""The base of every REST request body: what the OpenAPI document says, and nothing more.

Closed at every depth (an unknown field anywhere is refused), only the documented camelCase names (a
snake_case spelling of one is an unknown field), and no coercion (`"2"` is not a quantity). Event models
stay lenient readers of what producers write (`WireModel`); a request is input from outside, so it is not.
`tests/contract/test_api_contract.py` mutates bodies generated from docs/openapi.json at every depth to
hold the models and the document to this.
"""

from pydantic import ConfigDict

from shop_contracts.base import WireModel


class RequestBody(WireModel):
    """A request body: closed, camelCase names only, strict."""

    model_config = ConfigDict(
        extra="forbid", strict=True, populate_by_name=False, validate_by_name=False, validate_by_alias=True
    )

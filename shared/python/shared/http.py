"""The REST APIs' front door: Powertools routing that validates every request against the pydantic
models (so the OpenAPI document is generated from the code), RFC 9457 problem details for every
rejection, and the caller's identity as API Gateway verified it.

Every rejection is a 4xx `application/problem+json` that names each bad field and changes nothing; an
unexpected failure is a 500 that carries the request id and never the error's own text.
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseContentSchema,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from shared.errors import ShopError
from shared.observability import logger

MAX_BODY_BYTES = 64 * 1024
PROBLEM_JSON = "application/problem+json"
# Where a validation error was found, as Powertools names it: dropped from the field path we report.
_LOCATIONS = {"body", "path", "query", "header"}


class FieldError(BaseModel):
    """One bad field of a request: where it is and what is wrong with it."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document: what every rejected request gets."""

    model_config = ConfigDict(populate_by_name=True)
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    requestId: str | None = None
    # Extension of POST /orders' 409 when the client's total is not the order's: the current total.
    totalAmount: str | None = None


class GatewayError(BaseModel):
    """What API Gateway itself answers when it refuses a call (no or bad credentials, throttling)."""

    message: str | None = None


class RequestRejected(ShopError):
    """A request the API refuses; it becomes a problem+json response and changes nothing."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        extensions: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        # RFC 9457 extension members, each documented on the `Problem` model.
        self.extensions = extensions or {}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON response."""
    return Response(status_code=status, content_type="application/json", body=json.dumps(body), headers=headers)


def problem_response(rejected: RequestRejected) -> Response[str]:
    """The `application/problem+json` form of a rejected request, naming every bad field."""
    body: dict[str, Any] = {
        "title": rejected.title,
        "status": rejected.status,
        "detail": rejected.detail,
        **rejected.extensions,
    }
    if rejected.errors:
        body["errors"] = rejected.errors
    return Response(status_code=rejected.status, content_type=PROBLEM_JSON, body=json.dumps(body))


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """`("body", "items", 0, "quantity")` -> `items[0].quantity`; a header keeps its own name."""
    parts = list(location)
    if parts and parts[0] in _LOCATIONS:
        where = parts.pop(0)
        if where == "header" and parts:
            return "-".join(word.capitalize() for word in str(parts[0]).replace("_", "-").split("-"))
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def bad_request(errors: list[dict[str, str]]) -> RequestRejected:
    """A 400 naming every bad field."""
    fields = ", ".join(dict.fromkeys(error["field"] for error in errors))
    return RequestRejected(400, "Bad Request", f"{len(errors)} field(s) are invalid: {fields}", errors)


def rest_resolver() -> APIGatewayRestResolver:
    """A REST API router that validates requests and answers every failure with a problem document."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        found = error.errors()
        if any(e.get("type") == "json_invalid" for e in found):
            message = "the body is not valid JSON"
            return problem_response(
                RequestRejected(400, "Bad Request", message, [{"field": "(body)", "message": message}])
            )
        errors = [{"field": field_path(e["loc"]), "message": str(e["msg"])} for e in found]
        return problem_response(bad_request(errors))

    @app.exception_handler(RequestRejected)
    def _rejected(rejected: RequestRejected) -> Response[str]:
        return problem_response(rejected)

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return problem_response(RequestRejected(404, "Not Found", "no such route"))

    @app.exception_handler(Exception)
    def _failed(error: Exception) -> Response[str]:
        # The error's text may name tables, keys or libraries: it goes to the log, keyed by request id,
        # and the caller gets the id to quote.
        request_id = app.current_event.request_context.request_id
        logger.exception("request failed", request_id=request_id)
        body = {
            "title": "Internal Server Error",
            "status": 500,
            "detail": "the request failed on our side; nothing was changed unless the response says so. "
            "Quote the request id if you report it",
            "requestId": request_id,
        }
        return Response(status_code=500, content_type=PROBLEM_JSON, body=json.dumps(body))

    return app


def serve(app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check what model validation cannot see (a body is declared JSON and at most 64 KB), then route."""
    body = event.get("body") or ""
    if body:
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        rejected = None
        if content_type != "application/json":
            rejected = RequestRejected(415, "Unsupported Media Type", "send the body as Content-Type: application/json")
        elif len(body.encode()) > MAX_BODY_BYTES:
            rejected = RequestRejected(413, "Content Too Large", f"the body may be at most {MAX_BODY_BYTES} bytes")
        if rejected is not None:
            response = problem_response(rejected)
            return {
                "statusCode": response.status_code,
                "headers": {"Content-Type": PROBLEM_JSON},
                "body": response.body,
                "isBase64Encoded": False,
            }
    return app.resolve(event, context)


def caller_id(app: APIGatewayRestResolver) -> str:
    """The customer making the request: the `sub` of the user-pool token API Gateway verified.

    Raises
    ------
    RequestRejected
        401 when the request carries no verified identity (never the case behind the authorizer).
    """
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.raw_event.get("claims") if authorizer else None) or {}
    sub = claims.get("sub") if isinstance(claims, dict) else None
    if not isinstance(sub, str) or not sub:
        raise RequestRejected(401, "Unauthorized", "sign in and send the ID token as Authorization: Bearer <token>")
    return sub


def responses(
    status: int, description: str, model: type[BaseModel], *problems: int, headers: dict[str, str] | None = None
) -> dict[int, OpenAPIResponse]:
    """The OpenAPI `responses` of a route: its success, and the problem documents it may answer with."""
    described = {
        400: "a field of the request is invalid; `errors` names each one",
        401: "no valid customer token (API Gateway's own answer, or ours)",
        403: "the call is not signed, or not allowed (API Gateway's own answer)",
        404: "no such resource (or not yours)",
        409: "the request conflicts with the resource's state",
        412: "If-Match no longer matches: read again",
        413: "the body is over 64 KB",
        415: "the body is not declared application/json",
        428: "If-Match is required to change an existing product",
        500: "the request failed on our side; `requestId` identifies it",
    }
    documented: dict[int, OpenAPIResponse] = {
        status: {
            "description": description,
            "content": {"application/json": {"model": model}},
            **(
                {
                    "headers": {
                        name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
                    }
                }
                if headers
                else {}
            ),  # type: ignore[typeddict-item]
        }
    }
    for problem in problems:
        content: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
            PROBLEM_JSON: {"model": Problem}
        }
        if problem in (401, 403):
            content["application/json"] = {"model": GatewayError}
        documented[problem] = {"description": described[problem], "content": content}
    return documented


# The OpenAPI security requirement of each kind of caller (API Gateway enforces them: template.yaml's Auth).
CUSTOMER: list[dict[str, list[str]]] = [{"customer": []}]
OPERATOR: list[dict[str, list[str]]] = [{"operator": []}]

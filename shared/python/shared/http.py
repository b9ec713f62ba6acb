"""JSON responses and RFC 9457 problem details for the REST APIs, and strict parsing of request bodies."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from pydantic import BaseModel, ValidationError

from shared.errors import ShopError

MAX_BODY_BYTES = 64 * 1024


class RequestRejected(ShopError):
    """A request the API refuses; it becomes a problem+json response and changes nothing."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON response."""
    return Response(status_code=status, content_type="application/json", body=json.dumps(body), headers=headers)


def problem_response(rejected: RequestRejected) -> Response[str]:
    """The `application/problem+json` form of a rejected request, naming every bad field."""
    body: dict[str, Any] = {"title": rejected.title, "status": rejected.status, "detail": rejected.detail}
    if rejected.errors:
        body["errors"] = rejected.errors
    return Response(status_code=rejected.status, content_type="application/problem+json", body=json.dumps(body))


def field_path(location: tuple[int | str, ...]) -> str:
    """`("items", 0, "quantity")` -> `items[0].quantity`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def parse_body[ModelT: BaseModel](app: APIGatewayRestResolver, model: type[ModelT]) -> ModelT:
    """Parse the current request's JSON body into `model`, strictly.

    Raises
    ------
    RequestRejected
        415 when the body is not declared JSON, 413 when it is over 64 KB, 400 when it is not JSON or
        does not fit `model` (with one entry per bad field).
    """
    headers = {name.lower(): value for name, value in (app.current_event.headers or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise RequestRejected(415, "Unsupported Media Type", "send the body as Content-Type: application/json")
    raw = app.current_event.body or ""
    if len(raw.encode()) > MAX_BODY_BYTES:
        raise RequestRejected(413, "Content Too Large", f"the body may be at most {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise RequestRejected(400, "Bad Request", f"the body is not valid JSON: {exc}") from exc
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        errors = [{"field": field_path(error["loc"]), "message": error["msg"]} for error in exc.errors()]
        raise RequestRejected(
            400, "Bad Request", f"{len(errors)} field(s) are invalid: {', '.join(e['field'] for e in errors)}", errors
        ) from exc


def rest_resolver() -> APIGatewayRestResolver:
    """A REST API router whose rejected requests become problem+json responses."""
    app = APIGatewayRestResolver()

    @app.exception_handler(RequestRejected)
    def _rejected(rejected: RequestRejected) -> Response[str]:
        return problem_response(rejected)

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return problem_response(RequestRejected(404, "Not Found", "no such route"))

    return app

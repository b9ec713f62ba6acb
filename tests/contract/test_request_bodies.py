"""The request schemas of docs/openapi.json are the contract: the code accepts exactly what they describe.

Bodies are generated from the document (every property, optional ones included), each must be accepted by
the model that serves the route, and then mutated at every depth: an unknown field in any object, a
snake_case spelling of any documented name, money written with non-ASCII digits, a number where a string
is, a string where an integer is. Every mutation must be refused.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_snake

from inventory.models.stock import ProductUpdate, Restock
from order.models.order import PlaceOrderRequest
from tools.codegen import openapi

DOCUMENT = json.loads(openapi.DOCUMENT.read_text())
MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("post", "/orders"): PlaceOrderRequest,
    ("put", "/products/{productId}"): ProductUpdate,
    ("post", "/products/{productId}/restock"): Restock,
}
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref followed."""
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_schema(method: str, path: str) -> dict[str, Any]:
    """The request body's schema of one route, as the document states it."""
    content = DOCUMENT["paths"][path][method]["requestBody"]["content"]
    return resolve(content["application/json"]["schema"])


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for `schema` (the subset of JSON Schema the document uses), every property included."""
    schema = resolve(schema)
    if "anyOf" in schema:
        return st.one_of([strategy(option) for option in schema["anyOf"] if option.get("type") != "null"])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return st.fixed_dictionaries({name: strategy(sub) for name, sub in schema.get("properties", {}).items()})
    if kind == "array":
        return st.lists(strategy(schema["items"]), min_size=schema.get("minItems", 0), max_size=3)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "string":
        if "pattern" in schema:
            found = st.from_regex(schema["pattern"], fullmatch=True, alphabet=st.characters(codec="ascii"))
        else:
            found = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1)
        low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
        return found.filter(lambda text: low <= len(text) <= high)
    raise AssertionError(f"the document uses a schema this test cannot generate: {schema}")


def objects(body: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every object of a body, with where it is."""
    if isinstance(body, dict):
        yield path, body
        for key, value in body.items():
            yield from objects(value, (*path, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield from objects(value, (*path, index))


def at(body: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        body = body[step]
    return body


def mutations(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The body, changed once each way a request may not differ from the document."""
    for path, _ in list(objects(body)):
        changed = copy.deepcopy(body)
        at(changed, path)["unexpectedField"] = 1
        yield f"unknown field at {path}", changed
        for key in list(at(body, path)):
            snake = to_snake(key)
            if snake != key:
                changed = copy.deepcopy(body)
                node = at(changed, path)
                node[snake] = node.pop(key)
                yield f"snake_case {snake} at {path}", changed
            value = at(body, path)[key]
            if isinstance(value, str) and re.fullmatch(r"[0-9]+\.[0-9]{2}", value):
                for replacement, why in (
                    (value.translate(ARABIC_INDIC), "non-ASCII digits"),
                    (float(value), "a number"),
                ):
                    changed = copy.deepcopy(body)
                    at(changed, path)[key] = replacement
                    yield f"money as {why} at {(*path, key)}", changed
            if isinstance(value, int) and not isinstance(value, bool):
                changed = copy.deepcopy(body)
                at(changed, path)[key] = str(value)
                yield f"integer as a string at {(*path, key)}", changed


@pytest.mark.parametrize(("method", "path"), sorted(MODELS))
def test_every_object_of_a_request_body_is_closed_in_the_document(method: str, path: str) -> None:
    pending = [body_schema(method, path)]
    while pending:
        schema = resolve(pending.pop())
        for option in schema.get("anyOf", []):
            pending.append(option)
        if schema.get("type") == "object":
            assert schema.get("additionalProperties") is False, schema.get("title")
            pending += schema.get("properties", {}).values()
        if schema.get("type") == "array":
            pending.append(schema["items"])
        assert "\\d" not in schema.get("pattern", ""), f"{schema.get('title')}: \\d matches non-ASCII digits"


@pytest.mark.parametrize(("method", "path"), sorted(MODELS))
def test_bodies_from_the_document_are_accepted_and_every_mutation_of_them_refused(method: str, path: str) -> None:
    model = MODELS[(method, path)]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(strategy(body_schema(method, path)))
    def check(body: dict[str, Any]) -> None:
        # One rule the document states in words only: each product on one line of an order.
        products = [line.get("productId") for line in body.get("items", [])]
        assume(len(set(products)) == len(products))
        model.model_validate(body)
        for mutation, changed in mutations(body):
            with pytest.raises(ValidationError):
                model.model_validate(changed)
                pytest.fail(f"{method.upper()} {path} accepted {mutation}: {changed}")

    check()

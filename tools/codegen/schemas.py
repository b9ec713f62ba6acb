"""Write the JSON Schema of every event's `detail` (envelope + data) from the contract models, and guard the
published ones: the committed schemas under docs/schemas/ are the contract consumers rely on.

    python -m tools.codegen.schemas          # rewrite docs/schemas/ (refuses an incompatible change)
    python -m tools.codegen.schemas --check  # exit 1 if docs/schemas/ is stale or a model broke its published schema

A change is compatible when every consumer of the published schema still reads the new events and the new
models still read every published (and archived, replayable) event: a field may be added if old events
parse without it. Incompatible: a field removed, a field retyped (type, format, allowed values), a new
field that old events lack but the model requires. Such a change is a new `eventVersion` of the event,
published beside the old one for the deprecation period (docs/consumers.md, "Versioning").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope
from shop_contracts.errors import READ_VERSION
from shop_contracts.registry import CONTRACTS

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def file_name(detail_type: str, version: int = READ_VERSION) -> str:
    """The published schema's file name."""
    return f"{detail_type}.v{version}.schema.json"


def schema_of(detail_type: str, model: type[DomainEvent], *, mode: str = "serialization") -> dict[str, Any]:
    """The JSON Schema of the `detail` of one event type, as written (serialization) or as read (validation)."""
    envelope: Any = Envelope[model]  # type: ignore[valid-type]
    schema: dict[str, Any] = envelope.model_json_schema(by_alias=True, mode=mode)
    schema["title"] = f"{detail_type} (eventVersion {READ_VERSION})"
    schema["$id"] = f"shop.{model.service}/{detail_type}/v{READ_VERSION}"
    return schema


def render(contracts: dict[str, type[DomainEvent]] | None = None) -> dict[str, str]:
    """File name -> schema text, one per detail-type."""
    return {
        file_name(name): json.dumps(schema_of(name, model), indent=2, sort_keys=True) + "\n"
        for name, model in sorted((contracts or CONTRACTS).items())
    }


# -- the compatibility gate ----------------------------------------------------------------------


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _shape(node: dict[str, Any], root: dict[str, Any]) -> Any:
    """What a value must look like, leaving out what does not change how it is read (titles, docs)."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return ("anyOf", tuple(sorted(str(_shape(option, root)) for option in node["anyOf"])))
    if node.get("type") == "object" or "properties" in node:
        return "object"
    if node.get("type") == "array":
        return ("array", _shape(node.get("items", {}), root))
    allowed = tuple(sorted(map(str, node["enum"]))) if "enum" in node else None
    return (node.get("type"), node.get("format"), allowed, node.get("const"), node.get("pattern"))


def _objects(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    node = _resolve(node, root)
    return node if "properties" in node else None


def breaking_changes(published: dict[str, Any], written: dict[str, Any], read: dict[str, Any]) -> list[str]:
    """What makes `written`/`read` (a model's schemas as it writes and reads events) incompatible with
    `published`: fields removed or retyped, and fields old events lack that the model requires."""
    problems: list[str] = []

    def compare(old: dict[str, Any], new: dict[str, Any], new_read: dict[str, Any] | None, path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, old_field in old_props.items():
            where = f"{path}{name}"
            if name not in new_props:
                problems.append(f"{where}: removed")
                continue
            old_shape, new_shape = _shape(old_field, published), _shape(new_props[name], written)
            if old_shape != new_shape:
                problems.append(f"{where}: retyped from {old_shape} to {new_shape}")
                continue
            old_object, new_object = _objects(old_field, published), _objects(new_props[name], written)
            read_props = (new_read or {}).get("properties", {})
            new_read_object = _objects(read_props[name], read) if name in read_props else None
            if old_object is not None and new_object is not None:
                compare(old_object, new_object, new_read_object, f"{where}.")
        for name in (new_read or {}).get("required", []):
            if name not in old_props:
                problems.append(f"{path}{name}: new and required, so published events (and replays) fail to parse")

    compare(published, written, read, "")
    return problems


def main(argv: list[str] | None = None, contracts: dict[str, type[DomainEvent]] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    contracts = contracts or CONTRACTS
    rendered = render(contracts)
    stale, broken = [], []
    for name, model in sorted(contracts.items()):
        path = SCHEMAS / file_name(name)
        if path.exists() and path.read_text() == rendered[file_name(name)]:
            continue
        stale.append(file_name(name))
        if path.exists():
            published = json.loads(path.read_text())
            written, read = schema_of(name, model), schema_of(name, model, mode="validation")
            broken += [f"{name}: {problem}" for problem in breaking_changes(published, written, read)]
    for problem in broken:
        print(f"incompatible with the published schema: {problem}", file=sys.stderr)
    if broken:
        print(
            f"error: the change breaks consumers of eventVersion {READ_VERSION}: keep the published event as it is"
            " and add the change as a new eventVersion beside it (docs/consumers.md, Versioning)",
            file=sys.stderr,
        )
        return 1
    if args.check:
        for name in stale:
            print(f"stale: docs/schemas/{name} (a compatible change: run python -m tools.codegen.schemas)")
        return 1 if stale else 0
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (SCHEMAS / name).write_text(rendered[name])
    print(f"wrote {len(stale)} of {len(rendered)} schemas under docs/schemas/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

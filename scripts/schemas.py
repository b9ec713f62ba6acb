"""Write the JSON Schema of every event's `detail` (envelope + data) from the contract models.

    python -m scripts.schemas          # rewrite docs/schemas/
    python -m scripts.schemas --check  # exit 1 if docs/schemas/ differs from the models

Consumers in other languages validate against these; the contract test keeps them in step with the
models, so a change to a contract shows up in review as a schema diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shop_contracts.envelope import Envelope
from shop_contracts.registry import CONTRACTS

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def render() -> dict[str, str]:
    """File name -> schema text, one per detail-type."""
    rendered = {}
    for name, model in sorted(CONTRACTS.items()):
        schema = Envelope[model].model_json_schema(by_alias=True, mode="serialization")  # type: ignore[valid-type]
        schema["title"] = f"{name} (eventVersion 1)"
        schema["$id"] = f"shop.{model.service}/{name}/v1"
        rendered[f"{name}.v1.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    rendered = render()
    stale = [n for n, text in rendered.items() if not (SCHEMAS / n).exists() or (SCHEMAS / n).read_text() != text]
    if args.check:
        for name in stale:
            print(f"stale: docs/schemas/{name} (run python -m scripts.schemas)")
        return 1 if stale else 0
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (SCHEMAS / name).write_text(rendered[name])
    print(f"wrote {len(stale)} of {len(rendered)} schemas under docs/schemas/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Transform template.yaml as CloudFormation does on `sam deploy` (Fn::ForEach, then the SAM translator).

    .venvs/sam/bin/python -m tests.support.transform Local=true      (from the repository's root)

Runs in the SAM CLI's own environment (the translator pins a pydantic the project does not use); the
template tests call it in a subprocess.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform  # type: ignore[import-not-found]
from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-not-found]

from tools.template import expanded

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class NoManagedPolicies:
    """The translator asks IAM for AWS managed policy ARNs; the template names none by short name."""

    def load(self) -> dict[str, str]:
        return {}


def main(argv: list[str]) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    parameters: dict[str, Any] = dict(arg.split("=", 1) for arg in argv)
    # Fn::ForEach first, as CloudFormation applies AWS::LanguageExtensions before the SAM transform.
    # Not SAM CLI's own expansion: it also resolves what it can of the rest (Subs, Refs to parameters), which
    # CloudFormation leaves to the stack.
    template = expanded(yaml_parse(TEMPLATE.read_text()))
    template["Transform"] = "AWS::Serverless-2016-10-31"
    # As `sam package` leaves it: code already uploaded.
    for name, resource in template["Resources"].items():
        for uri in ("CodeUri", "ContentUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = f"s3://packaged/{name}.zip"
    transformed = transform(template, parameters, NoManagedPolicies())
    print(json.dumps(transformed, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

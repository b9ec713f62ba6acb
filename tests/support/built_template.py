"""Print a built template (default `.aws-sam/build/template.yaml`) as JSON, intrinsics in their long form.

    .venvs/sam/bin/python -m tests.support.built_template [path]      (from the repository's root)

Runs in the SAM CLI's own environment, with SAM's own parser, so that a test can change a copy of what
`sam build` wrote (drop a grant, drop a resource) and `sam deploy --template-file` the copy. Fn::ForEach loops
come expanded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-not-found]

from tools.template import expanded

BUILT = Path(__file__).resolve().parents[2] / ".aws-sam" / "build" / "template.yaml"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else BUILT
    # Its loops expanded (as CloudFormation would), so a test changes a member as it changes any resource.
    print(json.dumps(expanded(yaml_parse(path.read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The structured logger and the tracer every function uses; the service name comes from
POWERTOOLS_SERVICE_NAME. The tracer sends segments to X-Ray where the function has `Tracing: Active` (every
function of template.yaml); outside Lambda it is off.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()


def current_trace_header() -> str | None:
    """The X-Ray trace header of the running invocation (Lambda sets it per invocation), if traced."""
    return os.environ.get("_X_AMZN_TRACE_ID") or None

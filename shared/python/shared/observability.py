"""The structured logger and the tracer every function uses; the service name comes from
POWERTOOLS_SERVICE_NAME.

The tracer is Powertools' where traces are collected (in Lambda with `Tracing: Active` and tracing not
disabled: every function of template.yaml on AWS), so each AWS call becomes a subsegment of the
invocation. Where they are not (the local cloud sets POWERTOOLS_TRACE_DISABLED; tests run outside Lambda)
it is a tracer that records nothing: Powertools' Tracer, even disabled, imports the X-Ray SDK, about a
third of a handler's import (docs/benchmarks.md), for nobody. Either way the trace header of the
invocation rides in the outbox rows, so an order's trace continues across the bus on AWS.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()

Decorated = TypeVar("Decorated", bound=Callable[..., Any])


class Untraced:
    """The tracer's decorators where nothing is traced: they hand back the function as it is."""

    def capture_lambda_handler(self, lambda_handler: Decorated) -> Decorated:
        """The handler, unwrapped."""
        return lambda_handler

    def capture_method(self, method: Decorated) -> Decorated:
        """The method, unwrapped."""
        return method


def traced() -> bool:
    """Whether this execution environment's traces are collected, as Powertools decides it."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in {"1", "true", "yes", "on", "y"}
    in_lambda = "LAMBDA_TASK_ROOT" in os.environ and "AWS_SAM_LOCAL" not in os.environ
    return in_lambda and not disabled


def _tracer() -> Tracer | Untraced:
    if not traced():
        return Untraced()
    from aws_lambda_powertools import Tracer

    return Tracer()


tracer = _tracer()


def current_trace_header() -> str | None:
    """The X-Ray trace header of the running invocation (Lambda sets it per invocation), if traced."""
    return os.environ.get("_X_AMZN_TRACE_ID") or None

"""Logger and metrics shared by every function; service name and namespace come from the environment."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

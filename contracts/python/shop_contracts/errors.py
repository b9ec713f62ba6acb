"""The one error the contract raises: an event that does not fit it."""

from __future__ import annotations


class MalformedEvent(ValueError):
    """An event that can never be processed as it is (bad JSON, unknown type or version, invalid field)."""

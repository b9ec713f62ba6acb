"""The errors the contract raises when an event does not fit it."""

from __future__ import annotations


class MalformedEvent(ValueError):
    """An event that can never be processed as it is (bad JSON, unknown type or version, invalid field)."""


class LaterEventVersion(Exception):
    """A well-formed event of a later `eventVersion` than these models read.

    Not an error of the event: while a later version is introduced, producers publish it beside the
    version these models read (docs/consumers.md, "Versioning"), so a consumer skips it and reads its twin.
    """

    def __init__(self, detail_type: str, version: int) -> None:
        super().__init__(f"{detail_type} eventVersion {version} is later than this consumer reads ({READ_VERSION})")
        self.detail_type = detail_type
        self.version = version


READ_VERSION = 1
"""The `eventVersion` these models read and write."""

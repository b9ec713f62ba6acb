"""Sends PutEvents entries to the bus in batches of ten and re-sends the entries EventBridge rejected."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import EventPublishError
from shared.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

MAX_ENTRIES_PER_CALL = 10  # PutEvents limit
ATTEMPTS = 4


class Publisher(Protocol):
    """Sends ready-made PutEvents entries to the bus."""

    def put_entries(self, entries: Sequence[dict[str, Any]]) -> int:
        """Publish every entry; returns how many were published."""
        ...


@dataclass(frozen=True)
class EventBridgePublisher:
    """Publishes ready-made entries; only the outbox relay uses it, so publishing follows a commit."""

    client: EventBridgeClient
    backoff_seconds: float = 0.2

    def put_entries(self, entries: Sequence[dict[str, Any]]) -> int:
        """Publish every entry, re-sending failed ones with backoff.

        Returns
        -------
        int
            How many entries were published.

        Raises
        ------
        EventPublishError
            When entries are still rejected after the last attempt (every other entry was published); it
            names each one by its position in `entries`, with EventBridge's reason.
        """
        rejected: dict[int, dict[str, Any]] = {}
        for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
            batch = list(enumerate(entries[start : start + MAX_ENTRIES_PER_CALL], start=start))
            rejected |= self._put_batch(batch)
        if rejected:
            raise EventPublishError(
                list(rejected.values()),
                {
                    index: ": ".join(filter(None, (r.get("ErrorCode"), r.get("ErrorMessage"))))
                    for index, r in rejected.items()
                },
            )
        return len(entries)

    def _put_batch(self, batch: list[tuple[int, dict[str, Any]]]) -> dict[int, dict[str, Any]]:
        """Send a batch until every entry is in or the attempts run out; the entries still rejected."""
        pending = batch
        for attempt in range(1, ATTEMPTS + 1):
            response = self.client.put_events(Entries=[entry for _, entry in pending])  # type: ignore[misc]
            if not response.get("FailedEntryCount"):
                return {}
            # Result entries line up with request entries; the failed ones carry an ErrorCode.
            results = response["Entries"]
            failed = [(sent, result) for sent, result in zip(pending, results, strict=True) if "ErrorCode" in result]
            logger.warning("PutEvents rejected entries", failed=len(failed), attempt=attempt)
            pending = [sent for sent, _ in failed]
            if attempt == ATTEMPTS:
                return {index: dict(result) for (index, _), result in failed}
            time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        return {}

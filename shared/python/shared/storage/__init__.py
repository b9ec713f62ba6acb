"""The storage port every service writes through: items by key, guarded writes, all-or-nothing commits.

- `conditions`: what must hold of an item for a write to apply, and the invariants conditions enforce;
- `writes`: `Put`, `Update`, `Delete`, the `Table` port that applies them atomically, and the error a
  refused commit means;
- `dynamodb`: the port's DynamoDB adapter (`DynamoTable`, `read_together`); imported on its own, so code
  that only describes writes (logic, repositories, tests) does not load boto3 through this package.

Storage knows nothing of events: the inbox mark that makes a consumer apply an event once is a condition
and an attribute like any other, built by `shared.outbox`.
"""

from shared.storage.conditions import (
    Condition,
    Item,
    absent,
    at_least,
    at_most,
    below,
    creates_only,
    equals,
    exists,
    holds,
    invariant,
    lacks,
    missing,
    without,
)
from shared.storage.writes import (
    MAX_BATCH_WRITE,
    MAX_TRANSACTION_ITEMS,
    ConflictError,
    Delete,
    ExplainConflict,
    Key,
    Put,
    Table,
    Update,
    Write,
    WriteConflict,
    conflict_of,
    forget_read_ahead,
    read_ahead,
    transition,
)

__all__ = [
    "MAX_BATCH_WRITE",
    "MAX_TRANSACTION_ITEMS",
    "Condition",
    "ConflictError",
    "Delete",
    "ExplainConflict",
    "Item",
    "Key",
    "Put",
    "Table",
    "Update",
    "Write",
    "WriteConflict",
    "absent",
    "at_least",
    "at_most",
    "below",
    "conflict_of",
    "creates_only",
    "equals",
    "forget_read_ahead",
    "exists",
    "holds",
    "invariant",
    "lacks",
    "missing",
    "read_ahead",
    "transition",
    "without",
]

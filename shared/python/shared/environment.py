"""What an execution environment builds once and keeps across invocations, and the one way to forget it.

Lambda keeps a module's objects between the invocations of a warm execution environment, so AWS clients,
validated settings and each service's adapters are built on first use and reused (building a boto3
client costs milliseconds of CPU). All of them are held here: by a `Wiring` (a service's adapters, as
cached properties) or made with `once` (a function of no arguments). `reset()` forgets every one, which
only tests need: they change the environment's settings between cases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_forget: list[Callable[[], None]] = []


class Wiring:
    """Base of a service's wiring: each adapter a `functools.cached_property`, built on first use in this
    execution environment and kept (one module-level instance per service)."""

    def __init__(self) -> None:
        # cached_property keeps what it built in the instance's __dict__, which holds nothing else.
        _forget.append(self.__dict__.clear)


def once[T](build: Callable[[], T]) -> Callable[[], T]:
    """`build`, run on the first call in this execution environment; later calls return what it built."""
    cached = functools.cache(build)
    _forget.append(cached.cache_clear)
    return cached


def kept[MappingT: dict[Any, Any]](mapping: MappingT) -> MappingT:
    """A dict filled as an execution environment learns things (forgotten by `reset` too)."""
    _forget.append(mapping.clear)
    return mapping


def reset() -> None:
    """Forget everything built or learned in this execution environment (for tests)."""
    for forget in _forget:
        forget()

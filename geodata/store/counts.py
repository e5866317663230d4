"""Counts of places kept for one version of the places, so that asking again costs a
lookup instead of a scan.

A count is filed under the places version (``store_versions``, bumped by every write
to places and protocol labels) that was read *before* the count was made. A write
committed in between makes the count newer than its version: then it answers only
requests that read that older version too, which raced with the write anyway, and no
later one, because a version never comes back. Filed the other way round (version
read after counting) an old count could outlive the write; this order is the rule.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class CountCache:
    """A small LRU of ``key -> (version, value)``, shared by the threads of a process."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[str, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_count(self, key: Hashable, version: str | None, count: Callable[[], T]) -> T:
        """The value filed under ``key`` for ``version``, or ``count()`` filed there now.

        ``version`` must be read before ``count`` runs (see the module docstring); None
        (no version known, as in a write transaction) counts without filing.
        """
        found = self.get(key, version)
        if found is not MISSING:
            return found  # type: ignore[return-value]
        value = count()  # outside the lock: other keys need not wait for this scan
        self.put(key, version, value)
        return value

    def get(self, key: Hashable, version: str | None) -> object:
        """The value filed under ``key`` for ``version``, else :data:`MISSING`."""
        if version is None:
            return MISSING
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        return MISSING

    def put(self, key: Hashable, version: str | None, value: object) -> None:
        """File ``value`` (counted after ``version`` was read) under ``key``."""
        if version is None:
            return
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


MISSING = object()  # what get() answers for a key not filed for that version

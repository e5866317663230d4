"""Recently built vector tiles, kept in memory per worker by their validator, and what
many tiles are cut from (the public walks), kept per version.

A tile's ETag names everything it is built from (the places', neighbourhoods' and walks'
versions, the settings, the tile), so a cached tile can never be stale: any change gives
new ETags and the old entries simply age out. Low-zoom tiles over many places cost a
database aggregate each; a map opened by a room full of phones asks for the same few.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TileCache:
    """Bytes by key, least recently used first out, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes // 4:
            return  # one tile never pushes out most of the others
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)


class KeptByVersion(Generic[T]):
    """One value built from the store, kept until the version it was built for changes.
    Built once when many ask at once: the others wait for it rather than build it too."""

    def __init__(self) -> None:
        self._kept: tuple[Hashable, T] | None = None
        self._lock = threading.Lock()

    def get(self, version: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if self._kept is None or self._kept[0] != version:
                self._kept = (version, build())
            return self._kept[1]

"""The per-worker tile cache stays within its size, dropping the least recently used."""

from __future__ import annotations

from web.tile_cache import TileCache


def test_cache_keeps_within_its_bytes_dropping_the_least_recently_used() -> None:
    cache = TileCache(max_bytes=100)
    for key in "abcd":
        cache.put(key, key.encode() * 22)
    assert cache.get("a") == b"a" * 22
    cache.put("e", b"e" * 22)  # 110 bytes: "b" (least recently used) goes
    assert cache.get("b") is None
    assert [cache.get(k) is not None for k in "acde"] == [True] * 4
    cache.put("huge", b"x" * 60)  # more than a quarter of the cache: never kept
    assert cache.get("huge") is None and cache.get("a") is not None

"""The place store: one interface (:class:`PlaceStore`), one backend per database."""

from __future__ import annotations

from geodata.store.base import PlaceFilter, PlaceStore

__all__ = ["PlaceFilter", "PlaceStore", "open_store"]


def open_store(url: str) -> PlaceStore:
    """Open (and migrate) the store a database URL names: ``sqlite:///path/to/file.db``."""
    if url.startswith("sqlite:///"):
        from geodata.store.sqlite import SQLiteStore

        store = SQLiteStore(url.removeprefix("sqlite:///"))
        store.migrate()
        return store
    from geodata.errors import InvalidInput

    raise InvalidInput(
        f"unsupported database URL {url!r}; use sqlite:///path/to/file.db", code="bad_database_url"
    )

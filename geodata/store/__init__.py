"""The place store: one interface (:class:`PlaceStore`), one backend per database."""

from __future__ import annotations

from geodata.store.base import PlaceFilter, PlaceStore

__all__ = ["PlaceFilter", "PlaceStore", "open_store"]


def open_store(url: str) -> PlaceStore:
    """Open (and migrate) the store a database URL names.

    ``sqlite:///path/to/file.db``, or ``postgresql://user@host/dbname`` (also
    ``postgresql+psycopg://`` and ``postgis://``; ``?schema=name`` picks a schema).
    """
    if url.startswith("sqlite:///"):
        from geodata.store.sqlite import SQLiteStore

        store = SQLiteStore(url.removeprefix("sqlite:///"))
        store.migrate()
        return store
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgis://", "postgres://")):
        from geodata.store.postgis import PostGISStore

        pg_store = PostGISStore(url)
        try:
            pg_store.migrate()
        except BaseException:
            pg_store.close()
            raise
        return pg_store
    from geodata.errors import InvalidInput

    scheme = url.split("://", 1)[0] if "://" in url else url[:20]
    raise InvalidInput(
        f"unsupported database URL scheme {scheme!r}; use sqlite:///path/to/file.db or "
        "postgresql://user@host/dbname",
        code="bad_database_url",
    )

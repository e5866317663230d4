"""Turning a migrated store back into an older version's database, for migration tests."""

from __future__ import annotations

from importlib import resources

from geodata.store.base import PlaceStore


def search_migration() -> int:
    """The number of the migration that added search (its file is NNNN_search.sql)."""
    folder = resources.files("geodata.store") / "migrations" / "sqlite"
    return next(int(f.name[:4]) for f in folder.iterdir() if f.name.endswith("_search.sql"))


def undo_search_migration(store: PlaceStore) -> None:
    """Take out what migration 0010_search added (folded texts, index, triggers), on
    either backend, as if the database had been written by a version without it (so
    without the migrations after it either)."""
    if hasattr(store, "conn"):  # SQLite
        conn = store.conn
        conn.execute("DROP TABLE narrative_additions")  # 0011
        for (trigger,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'places_search%'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE places_search")
        conn.execute("DROP INDEX places_search_title")
        conn.execute("ALTER TABLE places DROP COLUMN search_title")
        conn.execute("ALTER TABLE places DROP COLUMN search_body")
        conn.execute(f"PRAGMA user_version = {search_migration() - 1}")
        return
    with store.transaction(), store._connection() as conn:  # type: ignore[attr-defined]
        conn.execute("ALTER TABLE places DROP COLUMN search_title, DROP COLUMN search_body")
        conn.execute("DELETE FROM schema_migrations WHERE name = 'search'")
        conn.execute("DROP TABLE narrative_additions")  # 0011
        conn.execute("DELETE FROM schema_migrations WHERE name = 'narrative_additions'")

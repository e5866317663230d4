"""SQLite schema migrations: the scripts in ``migrations/sqlite``, applied in order up to
``PRAGMA user_version``, and the backfills an upgrade needs."""

from __future__ import annotations

import sqlite3
from importlib import resources

from geodata.store.records import (
    COLUMNS,
    stored_heads,
)

_SELECT = ", ".join(f"p.{c}" for c in COLUMNS)


# 0006_export: places gained public_feature; 0009_feature_languages: heads gained a
# property. Databases from before the later of them get their heads encoded again.
# (Main has 0008_login_throttle; this branch skips the number, harmlessly.)
_HEADS_MIGRATION = 9


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) for every migration script shipped with the package, in order."""
    folder = resources.files("geodata.store") / "migrations" / "sqlite"
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            out.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(out)


def _split_sql(sql: str) -> list[str]:
    """Statements of a migration script (triggers keep their inner semicolons)."""
    statements, buf = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--") and not buf:
            continue
        buf.append(line)
        text = "\n".join(buf)
        if sqlite3.complete_statement(text):
            statements.append(text.strip())
            buf = []
    if "\n".join(buf).strip():
        statements.append("\n".join(buf).strip())
    return statements


class MigrationsMixin:
    """Migrations of :class:`~geodata.store.sqlite.SQLiteStore`; needs its connection."""

    def migrate(self) -> None:
        conn = self.conn
        with self.transaction():
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            upgraded = False
            for version, sql in migrations():
                if version > current:
                    for statement in _split_sql(sql):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {int(version)}")
                    upgraded = True
            if current and current < _HEADS_MIGRATION:
                self._store_missing_heads()
            if current and upgraded:  # places written before 0010_search (or by an older
                self._index_missing_search()  # version) have no search text yet

    def _store_missing_heads(self) -> None:
        """Encode the feature heads of places written before migration 0009 (or 0006)."""
        last = 0
        while rows := self.conn.execute(
            f"SELECT p.rid, {_SELECT} FROM places p WHERE p.rid > ? AND "
            "p.public_feature IS NULL AND p.sensitivity = 'public' ORDER BY p.rid LIMIT 2000",
            (last,),
        ).fetchall():
            heads = stored_heads([r[1:] for r in rows])
            self.conn.executemany(
                "UPDATE places SET public_feature = ? WHERE rid = ?",
                [(head, r[0]) for head, r in zip(heads, rows, strict=True)],
            )
            last = rows[-1][0]

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

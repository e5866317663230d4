"""PostGIS schema migrations: the files in ``migrations/postgis`` (one per SQLite migration,
same number and name), applied under an advisory lock so processes starting together
apply each once, and the backfills an upgrade needs."""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg import sql

from geodata.store.postgis_sql import (
    PLACE_SELECT,
    use_icu,
)
from geodata.store.records import (
    stored_heads,
)

# 0006_export: places gained public_feature; 0009_feature_languages: heads gained a
# property. Databases from before the later of them get their heads encoded again.
# (Main has 0008_login_throttle; this branch skips the number, harmlessly.)
_HEADS_MIGRATION = 9


# Any constant works; it only has to be the same in every process migrating this database.
_MIGRATION_LOCK = 0x4E52_4154_4C41  # "HERITAGE ATLAS", roughly


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, SQL) for every PostGIS migration shipped with the package, in order."""
    folder = resources.files("geodata.store") / "migrations" / "postgis"
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, name = entry.name.removesuffix(".sql").split("_", 1)
            out.append((int(version), name, entry.read_text(encoding="utf-8")))
    return sorted(out)


class MigrationsMixin:
    """Migrations of :class:`~geodata.store.postgis.PostGISStore`; needs its connections."""

    def migrate(self) -> None:
        with self._write() as conn:
            # Two processes starting together: the second waits here, then finds no work.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if self.schema:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer "
                "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL "
                "DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            upgraded = False
            for version, name, script in migrations():
                if version not in done:
                    conn.execute(script)  # type: ignore[arg-type] - our own trusted files
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                    upgraded = True
            if done and _HEADS_MIGRATION not in done:
                self._store_missing_heads(conn)
            if done and upgraded:  # places written before 0010_search (or by an older
                self._index_missing_search(conn)  # version) have no search text yet
            icu = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')"
            ).fetchone()
            use_icu(bool(icu and icu[0]))

    @staticmethod
    def _store_missing_heads(conn: psycopg.Connection) -> None:
        """Encode the feature heads of places written before migration 0009 (or 0006)."""
        last = 0
        while rows := conn.execute(
            f"SELECT p.rid, {PLACE_SELECT} FROM places p WHERE p.rid > %s AND "
            "p.public_feature IS NULL AND p.sensitivity = 'public' ORDER BY p.rid LIMIT 2000",
            (last,),
        ).fetchall():
            heads = stored_heads([r[1:] for r in rows])
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE places SET public_feature = %s WHERE rid = %s",
                    [(head, r[0]) for head, r in zip(heads, rows, strict=True)],
                )
            last = rows[-1][0]

    def schema_version(self) -> int:
        row = self._fetchone("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return row[0] if row else 0

    def reset_for_tests(self) -> None:
        """Empty every table (the schema stays migrated); for test fixtures only."""
        with self._write() as conn:
            # A connection some earlier test left open must not make this wait forever.
            conn.execute("SET LOCAL lock_timeout = '20s'")
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename NOT IN ('schema_migrations', 'spatial_ref_sys')"
                )
            ]
            if not tables:
                return
            # Only the tables holding rows are emptied, by DELETE with the triggers (foreign
            # keys included) off: for the few hundred rows of a test, a TRUNCATE (new files
            # for every table and index) took 90 ms, the DELETEs a few. Then every sequence
            # used is started again.
            filled = conn.execute(
                sql.SQL(" UNION ALL ").join(
                    sql.SQL("SELECT {} FROM (SELECT 1 FROM {} LIMIT 1) AS t").format(
                        sql.Literal(name), sql.Identifier(name)
                    )
                    for name in tables
                )
            ).fetchall()
            names = [sql.Identifier(r[0]) for r in filled]
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL session_replication_role = replica")
            except psycopg.errors.InsufficientPrivilege:  # not a superuser: the slow way
                if names:
                    conn.execute(
                        sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                            sql.SQL(", ").join(names)
                        )
                    )
            else:
                for name in names:
                    conn.execute(sql.SQL("DELETE FROM {}").format(name))
            for (sequence,) in conn.execute(
                "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            ).fetchall():
                conn.execute("SELECT setval(%s::regclass, 1, false)", (sequence,))

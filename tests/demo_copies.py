"""The Lisbon demo loaded once per test worker, and copied into each test's fresh store.

Loading the demo (24 parishes, 557 places, two walks) through the import path takes a few
hundred milliseconds; about half the suite starts from it. Copying the rows a first load
stored takes a few milliseconds on SQLite (its backup API) and some tens on PostGIS (one
``INSERT ... SELECT`` per table from a schema of its own). The demo's loading itself is
tested where it is the subject (``tests/geodata/test_demo_stories.py`` and the CLI
tests), through :func:`geodata.demo.load_demo`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from psycopg import sql

from geodata.demo import load_demo
from geodata.store import open_store
from geodata.store.base import PlaceStore


def demo_sqlite_file(path: Path) -> Path:
    store = open_store(f"sqlite:///{path}")
    try:
        load_demo(store)
    finally:
        store.close()
    return path


def copy_sqlite(template: Path, store: PlaceStore) -> None:
    """Make ``store`` (a fresh SQLite store) a page-for-page copy of ``template``."""
    source = sqlite3.connect(template)
    try:
        source.backup(store.conn)  # type: ignore[attr-defined]
    finally:
        source.close()


def demo_postgis_schema(url: str) -> str:
    """Load the demo into the schema ``url`` names (emptied first); return its name."""
    store = open_store(url)
    try:
        store.reset_for_tests()  # type: ignore[attr-defined]
        load_demo(store)
        return str(store.schema)  # type: ignore[attr-defined]
    finally:
        store.close()


def copy_postgis(template: str, store: PlaceStore) -> None:
    """Fill ``store`` (a fresh, emptied PostGIS store in a schema of the same migrations)
    with every row of the schema ``template``, column by column: triggers off (the copied
    rows already hold what they would compute, store versions included), identities
    carried over and their sequences moved past them."""
    with store._write() as conn:  # type: ignore[attr-defined]
        conn.execute("SET LOCAL session_replication_role = replica")
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                "AND tablename NOT IN ('schema_migrations', 'spatial_ref_sys')",
                (template,),
            )
        ]
        for table in tables:
            # By name: a test that migrated its schema again may have its columns in
            # another order than the template's.
            columns = sql.SQL(", ").join(
                sql.Identifier(r[0])
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s AND is_generated = 'NEVER' "
                    "ORDER BY ordinal_position",
                    (template, table),
                )
            )
            conn.execute(
                sql.SQL("DELETE FROM {}").format(sql.Identifier(table))  # rows a migration seeded
            )
            conn.execute(
                sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}.{}").format(
                    sql.Identifier(table),
                    columns,
                    columns,
                    sql.Identifier(template),
                    sql.Identifier(table),
                )
            )
        identities = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ).fetchall()
        for table, column in identities:
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, {c}), max({col}), true) "
                    "FROM {table} HAVING max({col}) IS NOT NULL"
                ).format(
                    t=sql.Literal(table),
                    c=sql.Literal(column),
                    col=sql.Identifier(column),
                    table=sql.Identifier(table),
                )
            )

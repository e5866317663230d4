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
from typing import Any

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
        for table, columns, identities in _filled_tables(conn, template):
            # By name: a test that migrated its schema again may have its columns in
            # another order than the template's.
            names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            conn.execute(
                sql.SQL("DELETE FROM {}").format(sql.Identifier(table))  # rows a migration seeded
            )
            conn.execute(
                sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}.{}").format(
                    sql.Identifier(table),
                    names,
                    names,
                    sql.Identifier(template),
                    sql.Identifier(table),
                )
            )
            for column in identities:
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


_FILLED: dict[str, list[tuple[str, list[str], list[str]]]] = {}


def _filled_tables(conn: Any, template: str) -> list[tuple[str, list[str], list[str]]]:
    """The tables of ``template`` that hold rows, each with its columns (generated ones
    left out) and its identity columns; read once per worker (nothing writes to the
    template after it is loaded), from the system catalogs in one query."""
    if template not in _FILLED:
        rows = conn.execute(
            "SELECT c.relname, array_agg(a.attname ORDER BY a.attnum) FILTER "
            "(WHERE a.attgenerated = ''), array_agg(a.attname) FILTER (WHERE a.attidentity "
            "<> '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = %s AND c.relkind = 'r' "
            "AND c.relname NOT IN ('schema_migrations', 'spatial_ref_sys') GROUP BY c.relname",
            (template,),
        ).fetchall()
        filled = []
        for table, columns, identities in rows:
            has_rows = conn.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{})").format(
                    sql.Identifier(template), sql.Identifier(table)
                )
            ).fetchone()[0]
            if has_rows:
                filled.append((table, list(columns), list(identities or [])))
        _FILLED[template] = filled
    return _FILLED[template]

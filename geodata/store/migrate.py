"""Copying one store's whole database into another: ``heritage-atlas migrate-db``.

Table by table, through each backend's own connection, with rows in the form SQLite
keeps them (WKB geometry, ISO 8601 UTC text for times, JSON as text, 0/1 for booleans):
PostGIS values are read into that form and written back from it, so any direction works
(SQLite to PostGIS is the usual one, when a deployment outgrows one machine). Derived
data is rebuilt, not copied: SQLite's bounding-box columns and R*Tree, PostGIS's
identity sequences and planner statistics. The source is read from one snapshot and
the target written in one transaction; every table's count is checked before it
commits, so either everything arrived or nothing did. Photo files are not touched:
their records are copied, the files stay where they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import shapely

from geodata.errors import Conflict, HeritageError
from geodata.store.base import PlaceStore

# Each store's own bookkeeping: applied migrations, PostGIS's reference table, SQLite's
# change counters (bumped by its own triggers as rows arrive).
BOOKKEEPING = frozenset({"schema_migrations", "spatial_ref_sys", "store_versions"})
# Parents before children, so foreign keys hold row by row; tables not named here
# (added by a later migration) follow in name order.
ORDER = (
    "neighbourhoods",
    "workshops",
    "places",
    "place_edit_tokens",
    "place_flags",
    "media",
    "place_protocol_labels",
    "walks",
    "walk_stops",
    "accounts",
    "credentials",
    "audit_log",
    "idempotency_keys",
    "rate_limits",
    "login_throttle",
    "service_secrets",
)
BATCH = 5000
Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in all)


class MigrationError(HeritageError):
    """The two databases cannot be matched table for table, or a count came out wrong."""

    code = "migration_failed"
    status = 409


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


@dataclass(frozen=True)
class MigrationReport:
    """Rows per table in the source and, after the copy, in the target."""

    tables: list[TableCount]

    def rows(self, table: str) -> int:
        return next((t.target for t in self.tables if t.table == table), 0)


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():  # our own table and column names only
        raise MigrationError(f"unexpected name {name!r} in the database schema")
    return f'"{name}"'


class _SQLiteTables:
    """Raw access to a SQLite store's tables (already in the shared form)."""

    # Bounds columns, computed from the geometry as the store does on insert.
    DERIVED: ClassVar[dict[str, tuple[str, ...]]] = {"places": ("minx", "miny", "maxx", "maxy")}

    def __init__(self, store: Any) -> None:
        self.store = store

    @property
    def conn(self) -> Any:
        return self.store.conn

    def tables(self) -> list[str]:
        rows = self.conn.execute("PRAGMA table_list").fetchall()  # (schema, name, type, ...)
        return sorted(r[1] for r in rows if r[0] == "main" and r[2] == "table"
                      and not r[1].startswith("sqlite_"))  # fmt: skip

    def columns(self, table: str) -> dict[str, bool]:
        """Column name -> whether it numbers the rows (an INTEGER PRIMARY KEY)."""
        info = self.conn.execute(f"PRAGMA table_info({_ident(table)})").fetchall()
        single_key = sum(1 for r in info if r[5]) == 1
        return {r[1]: bool(single_key and r[5] and r[2].upper() == "INTEGER") for r in info}

    @contextmanager
    def reading(self) -> Iterator[None]:
        # A deferred read transaction: one WAL snapshot, writers of a live service go on.
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def read(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        have = self.columns(table)
        # A PostGIS identity column SQLite lacks (place_flags.seq) is SQLite's rowid.
        exprs = ", ".join(_ident(c) if c in have else "rowid" for c in columns)
        cur = self.conn.execute(f"SELECT {exprs} FROM {_ident(table)} ORDER BY rowid")
        while rows := cur.fetchmany(BATCH):
            yield rows

    def writing(self) -> AbstractContextManager[None]:
        return self.store.transaction()

    def clear(self, tables: Sequence[str]) -> None:
        for table in reversed(tables):
            self.conn.execute(f"DELETE FROM {_ident(table)}")

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        derived = self.DERIVED.get(table, ())
        if derived:
            bounds = shapely.bounds(shapely.from_wkb([r[columns.index("geom")] for r in rows]))
            rows = [(*r, *b) for r, b in zip(rows, bounds.tolist(), strict=True)]
        names = [*columns, *derived]
        self.conn.executemany(
            f"INSERT INTO {_ident(table)} ({', '.join(map(_ident, names))}) "
            f"VALUES ({', '.join('?' for _ in names)})",
            rows,
        )

    def finish(self, tables: Sequence[str]) -> None:
        if "places" in tables:  # the R*Tree is filled from the bounds columns, as on insert
            self.conn.execute("DELETE FROM places_rtree")
            self.conn.execute(
                "INSERT INTO places_rtree (rid, minx, maxx, miny, maxy) "
                "SELECT rid, minx, maxx, miny, maxy FROM places"
            )
            # and the search index from the folded texts copied with the places
            self.conn.execute("INSERT INTO places_search (places_search) VALUES ('rebuild')")


# PostGIS column types read into, and written from, the shared form.
_PG_READ = {
    "geometry": "ST_AsBinary({c})",
    "jsonb": "{c}::text",
    "json": "{c}::text",
    "citext": "{c}::text",
    "bool": "{c}::int",
    "timestamptz": """to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
}


class _PostGISTables:
    """Raw access to a PostGIS store's tables, converted to and from the shared form."""

    DERIVED: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, store: Any) -> None:
        self.store = store
        self.conn: Any = None
        self._types: dict[str, dict[str, tuple[str, bool]]] = {}

    @contextmanager
    def _session(self, begin: str | None) -> Iterator[None]:
        if begin is None:  # the store's own transaction: savepoints and pool as usual
            with self.store.transaction(), self.store._connection() as conn:
                self.conn = conn
                yield
            return
        with self.store._borrow() as conn:
            conn.execute(begin)
            self.conn = conn
            try:
                yield
            finally:
                conn.execute("ROLLBACK")  # read only: nothing to keep

    def reading(self) -> AbstractContextManager[None]:
        # One snapshot for every table, so counts and rows agree with each other.
        return self._session("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def writing(self) -> AbstractContextManager[None]:
        return self._session(None)

    def _column_types(self, table: str) -> dict[str, tuple[str, bool]]:
        if table not in self._types:
            rows = self.conn.execute(
                "SELECT column_name, udt_name, is_identity = 'YES' FROM "
                "information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s ORDER BY ordinal_position",
                (table,),
            ).fetchall()
            self._types[table] = {r[0]: (r[1], r[2]) for r in rows}
        return self._types[table]

    def tables(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        return sorted(r[0] for r in rows)

    def columns(self, table: str) -> dict[str, bool]:
        return {name: identity for name, (_, identity) in self._column_types(table).items()}

    def _order(self, table: str) -> str:
        identity = [c for c, numbered in self.columns(table).items() if numbered]
        if identity:
            return _ident(identity[0])
        keys = self.conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (table,),
        ).fetchall()
        return ", ".join(_ident(k[0]) for k in keys) or "1"

    def read(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        types = self._column_types(table)
        exprs = ", ".join(_PG_READ.get(types[c][0], "{c}").format(c=_ident(c)) for c in columns)
        query = f"SELECT {exprs} FROM {_ident(table)} ORDER BY {self._order(table)}"
        # JSON as compact as the SQLite store writes it (jsonb's text has spaces).
        json = [i for i, c in enumerate(columns) if types[c][0] in ("json", "jsonb")]
        with self.conn.cursor(name=f"migrate_{table}") as cur:
            cur.execute(query)
            while rows := cur.fetchmany(BATCH):
                if json:
                    rows = [list(r) for r in rows]
                    for r in rows:
                        for i in json:
                            if r[i] is not None:
                                r[i] = orjson.dumps(orjson.loads(r[i])).decode()
                yield [tuple(r) for r in rows]

    def clear(self, tables: Sequence[str]) -> None:
        self.conn.execute(f"TRUNCATE {', '.join(map(_ident, tables))} RESTART IDENTITY CASCADE")

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        types = self._column_types(table)
        geometry = [i for i, c in enumerate(columns) if types[c][0] == "geometry"]
        if geometry:
            rows = [list(r) for r in rows]  # type: ignore[misc]
            for i in geometry:
                geoms = shapely.set_srid(shapely.from_wkb([r[i] for r in rows]), 4326)
                # EWKB hex: COPY's text form of a geometry that carries its SRID.
                for r, hexed in zip(rows, shapely.to_wkb(geoms, hex=True, include_srid=True),
                                    strict=True):  # fmt: skip
                    r[i] = hexed
        # COPY accepts values for GENERATED ALWAYS identity columns as they are.
        copy_sql = f"COPY {_ident(table)} ({', '.join(map(_ident, columns))}) FROM STDIN"
        with self.conn.cursor().copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self, tables: Sequence[str]) -> None:
        for table in tables:
            for column, numbered in self.columns(table).items():
                if numbered:  # new rows continue after the copied ones
                    self.conn.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                        f"coalesce(max({_ident(column)}), 0) + 1, false) FROM {_ident(table)}",
                        (table, column),
                    )
        # Fresh tables have no statistics yet: without them plans would be blind.
        self.conn.execute(f"ANALYZE {', '.join(map(_ident, tables))}")


def _counts(side: _SQLiteTables | _PostGISTables, tables: Sequence[str]) -> dict[str, int]:
    """Rows in each of ``tables``, in one query (a single round trip to a server)."""
    if not tables:
        return {}
    query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {_ident(t)})" for t in tables)
    return dict(zip(tables, side.conn.execute(query).fetchone(), strict=True))


def _tables_of(store: PlaceStore) -> _SQLiteTables | _PostGISTables:
    from geodata.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return _SQLiteTables(store)
    from geodata.store.postgis import PostGISStore

    if isinstance(store, PostGISStore):
        return _PostGISTables(store)
    raise MigrationError(f"cannot copy tables of a {type(store).__name__}")


def _data_tables(side: _SQLiteTables | _PostGISTables) -> list[str]:
    names = [t for t in side.tables() if t not in BOOKKEEPING and not t.startswith("places_rtree")]
    return sorted(names, key=lambda t: (ORDER.index(t) if t in ORDER else len(ORDER), t))


def _plan(table: str, source: Any, target: Any) -> list[str]:
    """The target's columns to read from the source; MigrationError if data would be lost."""
    have, want = source.columns(table), target.columns(table)
    derived = target.DERIVED.get(table, ())
    columns = []
    for name, numbered in want.items():
        if name in have or (numbered and isinstance(source, _SQLiteTables)):
            columns.append(name)  # (a numbering column SQLite lacks is read as its rowid)
        elif name not in derived:
            raise MigrationError(
                f"column {table}.{name} exists only in the target database; upgrade both "
                "to the same version of Heritage Atlas first"
            )
    rebuilt = source.DERIVED.get(table, ())
    lost = [n for n, numbered in have.items() if not (n in want or numbered or n in rebuilt)]
    if lost:
        raise MigrationError(
            f"column {table}.{lost[0]} exists only in the source database; upgrade both "
            "to the same version of Heritage Atlas first"
        )
    return columns


def table_counts(store: PlaceStore) -> dict[str, int]:
    """Rows in every data table of ``store`` (bookkeeping and derived indexes left out)."""
    side = _tables_of(store)
    with side.reading():
        return _counts(side, _data_tables(side))


def table_rows(store: PlaceStore, table: str) -> list[dict[str, Any]]:
    """Every row of one table as stored (column -> value, in the shared form), in the
    order rows were added; for inspection and tests."""
    side = _tables_of(store)
    with side.reading():
        if table not in _data_tables(side):
            raise MigrationError(f"there is no table {table!r}")
        names = list(side.columns(table))
        return [dict(zip(names, row, strict=True)) for rows in side.read(table, names)
                for row in rows]  # fmt: skip


def migrate_store(
    source: PlaceStore,
    target: PlaceStore,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy every row of ``source`` into ``target`` (both migrated to the same schema).

    Refuses (Conflict) a target that already holds data unless ``force``, which empties
    it first. Raises MigrationError, and leaves the target as it was, if the schemas
    differ or any table's count in the target differs from the source's.
    """
    src, dst = _tables_of(source), _tables_of(target)
    with src.reading(), dst.writing():
        tables = _data_tables(src)
        others = _data_tables(dst)
        if tables != others:
            odd = sorted(set(tables) ^ set(others))
            raise MigrationError(
                f"the databases do not have the same tables ({', '.join(odd)}); upgrade "
                "both to the same version of Heritage Atlas first"
            )
        plans = {t: _plan(t, src, dst) for t in tables}
        held = {t: n for t, n in _counts(dst, tables).items() if n}
        if held and not force:
            listed = ", ".join(f"{t}: {n:,}" for t, n in held.items())
            raise Conflict(
                f"the target database already holds data ({listed}); pass --force to replace it",
                code="target_not_empty",
            )
        if held:
            dst.clear(tables)
        totals = _counts(src, tables)
        for table in tables:
            done = 0
            for rows in src.read(table, plans[table]):
                dst.write(table, plans[table], rows)
                done += len(rows)
                if progress is not None:
                    progress(table, done, totals[table])
        written = _counts(dst, tables)
        counts = [TableCount(t, totals[t], written[t]) for t in tables]
        dst.finish(tables)
        wrong = [c for c in counts if c.source != c.target]
        if wrong:  # raising here rolls the whole copy back
            raise MigrationError(
                "counts differ after the copy ("
                + ", ".join(f"{c.table}: {c.source} read, {c.target} written" for c in wrong)
                + "); nothing was kept"
            )
    return MigrationReport(counts)
